import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AuthSummary, PluginFinding } from '../../src/pipeline/types.js';
import { createHookContext, MAIL_FIXTURE_DIR, makeTransaction, runHook } from '../../test/helpers/plugin-context.js';
import parse from '../parse/index.js';
import privacy, { privacyConfigSchema, type PrivacyConfig } from './index.js';

const privacyFixture = (name: string): Buffer => readFileSync(new URL(`../../test/fixtures/privacy/${name}`, import.meta.url));

const passing: AuthSummary = {
  spf: { result: 'pass', domain: 'example.org' },
  dkim: [{ result: 'pass', domain: 'example.org', selector: 's1', aligned: true }],
  dmarc: { result: 'pass', domain: 'example.org', policy: 'reject' },
  arc: { result: 'none' },
  fromDomain: 'example.org',
};

interface Options {
  secure?: boolean;
  auth?: AuthSummary;
  config?: Partial<PrivacyConfig>;
}

async function rate(raw: Buffer, options: Options = {}): Promise<PluginFinding> {
  const txn = makeTransaction(raw);
  await runHook(parse, 'data', txn);
  txn.auth = options.auth;
  const config = privacyConfigSchema.parse(options.config ?? {});
  const { ctx, findings } = createHookContext<PrivacyConfig>({ stage: 'message', transaction: txn, config, plugin: 'privacy' });
  ctx.session.secure = options.secure ?? false;
  expect(privacy.hooks.message!(ctx)).toBeUndefined();
  expect(findings).toHaveLength(1);
  return findings[0];
}

const index = (f: PluginFinding): number => (f.details?.privacy as { index: number }).index;

describe('privacy index on end-to-end protected fixtures', () => {
  it.each([
    ['pgp-encrypted.eml', { signed: [], encrypted: ['pgp'] }, ['encrypted', 'pgp'], 25],
    ['pgp-signed.eml', { signed: ['pgp'], encrypted: [] }, ['signed', 'pgp'], 15],
    ['smime-signed.eml', { signed: ['smime'], encrypted: [] }, ['signed', 'smime'], 15],
    ['smime-encrypted.eml', { signed: [], encrypted: ['smime'] }, ['encrypted', 'smime'], 25],
    ['inline-pgp-signed.eml', { signed: ['pgp'], encrypted: [] }, ['signed', 'pgp'], 15],
  ])('%s', async (name, e2e, tags, points) => {
    const finding = await rate(privacyFixture(name));
    expect((finding.details?.privacy as { e2e: unknown }).e2e).toEqual(e2e);
    expect(finding.tags).toEqual(tags);
    expect(index(finding)).toBe(points);
    expect(finding.score).toBeUndefined();
  });

  it('finds nothing in plain mail', async () => {
    const finding = await rate(readFileSync(`${MAIL_FIXTURE_DIR}01-personal.eml`));
    expect(finding.tags).toBeUndefined();
    expect(finding.reason).toBe('privacy index 0');
  });
});

describe('privacy index factors', () => {
  it('records every contribution: TLS, SPF, aligned DKIM, DMARC, e2e', async () => {
    const finding = await rate(privacyFixture('pgp-encrypted.eml'), { secure: true, auth: passing });
    expect(finding.reason).toBe('privacy index 85: transport, spf, dkim, dmarc, e2e-encrypted');
    expect(finding.details?.privacy).toEqual({
      index: 85,
      transport: 'tls',
      transportSeenIn: 'session',
      authenticity: { spf: 'pass', dkim: 'pass-aligned', dmarc: 'pass' },
      e2e: { signed: [], encrypted: ['pgp'] },
      contributions: [
        { factor: 'transport', value: 'tls', points: 20 },
        { factor: 'spf', value: 'pass', points: 10 },
        { factor: 'dkim', value: 'pass-aligned', points: 15 },
        { factor: 'dmarc', value: 'pass', points: 15 },
        { factor: 'e2e-signed', value: 'none', points: 0 },
        { factor: 'e2e-encrypted', value: 'pgp', points: 25 },
      ],
    });
  });

  it('gives no authenticity points without the auth plugin, or for an unaligned signature', async () => {
    const raw = readFileSync(`${MAIL_FIXTURE_DIR}01-personal.eml`);
    const none = await rate(raw);
    expect((none.details?.privacy as { authenticity: unknown }).authenticity).toEqual({ spf: 'unknown', dkim: 'unknown', dmarc: 'unknown' });
    const thirdParty: AuthSummary = { ...passing, dkim: [{ result: 'pass', domain: 'esp.example', selector: 'x', aligned: false }], dmarc: { result: 'fail', domain: 'example.org', policy: 'none' } };
    expect(index(await rate(raw, { auth: thirdParty }))).toBe(10);
  });

  it('reads TLS from the topmost Received header only when told to', async () => {
    const received = 'Received: from mail.example.org (mail.example.org [203.0.113.5])\r\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)\r\n\tby mx.example.com (Postfix) with ESMTPS id 4Xyz;\r\n\tMon, 10 Mar 2025 09:00:01 +0000\r\n';
    const raw = Buffer.concat([Buffer.from(received), readFileSync(`${MAIL_FIXTURE_DIR}01-personal.eml`)]);
    expect(index(await rate(raw))).toBe(0);
    const trusted = await rate(raw, { config: { tlsFromReceived: true } });
    expect(trusted.details?.privacy).toMatchObject({ index: 20, transport: 'tls', transportSeenIn: 'received' });
  });

  it('takes weights from config and can leave tags out', async () => {
    const finding = await rate(privacyFixture('smime-signed.eml'), { secure: true, config: { weights: { tls: 50, signed: 5 } as PrivacyConfig['weights'], tags: false } });
    expect(index(finding)).toBe(55);
    expect(finding.tags).toBeUndefined();
  });
});
