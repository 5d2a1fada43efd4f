import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { createHookContext, makeTransaction, runHook } from '../../test/helpers/plugin-context.js';
import { authFixture } from '../../test/helpers/mail-auth.js';
import { tableResolver } from '../../test/helpers/test-dns-server.js';
import classify from '../classify/index.js';
import parse from '../parse/index.js';
import { contributions } from '../privacy/score.js';
import { privacyConfigSchema } from '../privacy/config.js';
import { authservIdOf, headerText } from '../../src/plugin-api.js';
import { forgedAuthResults } from './forged.js';
import auth, { authConfigSchema, createAuthState, type AuthConfig } from './index.js';

/** Claims, in our name (mx.test, the test hostname), that everything passed. */
const FORGED =
  'Authentication-Results: MX.TEST (it is us, honestly);\r\n spf=pass smtp.mailfrom=example.org;\r\n' +
  ' dkim=pass header.d=example.org; dmarc=pass header.from=example.org\r\n';
const UPSTREAM = 'Authentication-Results: mx.example.net; spf=pass smtp.mailfrom=example.net\r\n';

describe('Authentication-Results claiming our authserv-id', () => {
  it('reads the authserv-id past comments and the version', () => {
    expect(authservIdOf(' (c) MX.Test 1; spf=pass')).toBe('mx.test');
    expect(authservIdOf('mx.test;none')).toBe('mx.test');
    expect(forgedAuthResults(Buffer.from(`${UPSTREAM}${FORGED}Subject: x\r\n\r\n${FORGED}`), 'mx.test')).toHaveLength(1);
  });

  it('reads only the header section: a forged line in the body is not a header, however the header section ends', () => {
    // CRLF header lines ended by a bare-LF empty line, then a body line that looks like a header.
    const raw = Buffer.from(`${UPSTREAM}Subject: x\r\n\n${FORGED}`);
    expect(forgedAuthResults(raw, 'mx.test')).toEqual([]);
    expect(headerText(raw)).toBe(`${UPSTREAM}Subject: x`);
    // An empty first line: no headers at all.
    expect(forgedAuthResults(Buffer.from(`\r\n${FORGED}`), 'mx.test')).toEqual([]);
  });

  it('turns only the header bytes of a large message into text', () => {
    const head = `${UPSTREAM}${FORGED}Subject: x\r\n`;
    const raw = Buffer.from(`${head}\r\n${'body line\r\n'.repeat(100_000)}`);
    const toString = vi.spyOn(Buffer.prototype, 'toString');
    try {
      expect(forgedAuthResults(raw, 'mx.test')).toHaveLength(1);
      const longest = Math.max(0, ...toString.mock.results.map((r) => (typeof r.value === 'string' ? r.value.length : 0)));
      expect(longest).toBe(head.length - 2);
    } finally {
      toString.mockRestore();
    }
  });

  it('is reported, scored and never believed; the raw message stays byte-exact', async () => {
    const raw = Buffer.from(`${FORGED}${UPSTREAM}${authFixture('unsigned.eml')}`);
    const digest = createHash('sha256').update(raw).digest('hex');
    const config = authConfigSchema.parse({});
    const state = createAuthState(config, { hostname: 'mx.test' }, tableResolver({ 'example.net': { TXT: ['v=spf1 -all'] } }));
    const txn = makeTransaction(raw, ['bob@example.com'], 'carol@example.net');
    await runHook(parse, 'data', txn);
    const { ctx, findings } = createHookContext<AuthConfig, typeof state>({ stage: 'data', transaction: txn, config, state, plugin: 'auth' });
    ctx.session.clientAddress = '192.0.2.50';
    await auth.hooks.data!(ctx);
    txn.findings.push({ plugin: 'auth', finding: findings[0] });

    // Scoring: a named rule with its score, the forged value listed, the reason says it was ignored.
    const rules = (findings[0].details?.rules as { name: string; score: number }[]).map((r) => r.name);
    expect(rules).toContain('AUTH_RESULTS_FORGED');
    expect(findings[0].details?.forgedAuthResults).toEqual([expect.stringMatching(/^MX\.TEST \(it is us, honestly\);/)]);
    expect(findings[0].reason).toMatch(/1 forged Authentication-Results claiming our authserv-id ignored$/);
    // Our own checks stand: nothing passed.
    expect(txn.auth).toMatchObject({ spf: { result: 'fail' }, dkim: [], dmarc: { result: 'none' } });
    // Privacy reads only our checks.
    const parts = contributions({ transport: { tls: false, seenIn: 'none' }, auth: txn.auth, e2e: { pgp: { signed: false, encrypted: false }, smime: { signed: false, encrypted: false } } }, privacyConfigSchema.parse({}).weights);
    expect(parts.filter((p) => ['spf', 'dkim', 'dmarc'].includes(p.factor)).every((p) => p.points === 0)).toBe(true);
    // Classify: a header rule on Authentication-Results does not see the forged one, only the upstream one.
    const rule = (pattern: string) => ({ name: 'ar', if: { header: 'Authentication-Results', matches: pattern }, tags: ['ar'] });
    const forgedRule = await runHook(classify, 'message', txn, { builtins: false, rules: [rule('dmarc=pass')] });
    expect(forgedRule.findings[0].tags).toEqual([]);
    const upstreamRule = await runHook(classify, 'message', txn, { builtins: false, rules: [rule('^mx\\.example\\.net;')] });
    expect(upstreamRule.findings[0].tags).toEqual(['ar']);
    // The bytes are untouched.
    expect(createHash('sha256').update(txn.raw!).digest('hex')).toBe(digest);
  });
});
