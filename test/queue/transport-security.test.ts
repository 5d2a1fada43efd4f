import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { RemoteDeliverer } from '../../src/queue/delivery/remote-deliverer.js';
import { startScriptedMta, type ScriptedMta } from '../helpers/scripted-mta.js';
import { startTestDnsServer, type TestDnsServer } from '../helpers/test-dns-server.js';
import { outboundMessage } from './outbound-fixture.js';

/**
 * MTA-STS and DANE through the real mx-connect path: MX, A, TXT and TLSA answers come from a test
 * DNS server (TLSA with or without the AD bit of a validating resolver), the peer is a real
 * STARTTLS server with a certificate made for the test. The MTA-STS policy document itself is
 * given as a cached policy: fetching it needs HTTPS on port 443 of mta-sts.<domain>, which a
 * test on loopback cannot offer without root and a trusted CA; mailauth keeps using a cached
 * policy when the fetch fails, which is exactly the RFC 8461 behaviour exercised here.
 */
let mta: ScriptedMta;
let dns: TestDnsServer;
let caFile: string;
let spkiSha256: Buffer;

beforeAll(async () => {
  const pems = await generate([{ name: 'commonName', value: 'mx.good.test' }], { keySize: 2048, algorithm: 'sha256' });
  const dir = mkdtempSync(join(tmpdir(), 'hermod-sts-'));
  caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, pems.cert);
  const cert = new X509Certificate(pems.cert);
  spkiSha256 = createHash('sha256').update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest();
  mta = await startScriptedMta({ tls: { key: pems.private, cert: pems.cert } });
  dns = await startTestDnsServer({
    'secure.test': { MX: [{ exchange: 'mx.good.test', priority: 10 }] },
    'misrouted.test': { MX: [{ exchange: 'mx.evil.test', priority: 10 }] },
    '_mta-sts.secure.test': { TXT: ['v=STSv1; id=20260101'] },
    '_mta-sts.misrouted.test': { TXT: ['v=STSv1; id=20260101'] },
    'mta-sts.secure.test': { A: ['127.0.0.1'] },
    'mta-sts.misrouted.test': { A: ['127.0.0.1'] },
    'mx.good.test': { A: ['127.0.0.1'] },
    'mx.evil.test': { A: ['127.0.0.1'] },
    'dane.test': { MX: [{ exchange: 'mx.dane.test', priority: 10 }] },
    'mx.dane.test': { A: ['127.0.0.1'] },
  });
});

afterAll(async () => {
  await mta?.stop();
  await dns?.close();
});

function deliverer(options: { mtaSts?: boolean; dane?: boolean } = {}): RemoteDeliverer {
  const config = loadConfig({
    env: {},
    overrides: {
      delivery: { port: mta.port, dnsServers: [dns.address], allowLocalAddresses: true, mtaSts: options.mtaSts ?? false, dane: options.dane ?? false, caFile, connectTimeoutMs: 3000 },
    },
  });
  const policy = { id: '20260101', mode: 'enforce', mx: ['mx.good.test'], maxAge: 86400, version: 'STSv1', expires: new Date(Date.now() + 86_400_000).toISOString() };
  return new RemoteDeliverer(config, pino({ level: 'silent' }), new Map([['secure.test', policy], ['misrouted.test', policy]]));
}

async function send(d: RemoteDeliverer, domain: string) {
  try {
    const recipients = [{ address: `bob@${domain}`, status: 'pending' as const }];
    return await d.deliver({ domain, sender: 'alice@example.test', recipients, body: outboundMessage([`bob@${domain}`]) });
  } finally {
    d.close();
  }
}

describe('transport security of direct delivery', () => {
  it('without a policy, STARTTLS is opportunistic: a self-signed peer still gets the message over TLS', async () => {
    const result = await send(deliverer(), 'secure.test');
    expect(result).toMatchObject({ policy: 'none', tls: true });
    expect(result.replies[0].code).toBe(250);
  });

  it('MTA-STS enforce: delivers over verified TLS to an MX the policy lists', async () => {
    const result = await send(deliverer({ mtaSts: true }), 'secure.test');
    expect(result).toMatchObject({ policy: 'mta-sts', tls: true, remoteMta: 'mx.good.test[127.0.0.1]' });
    expect(result.replies[0].code).toBe(250);
  });

  it('MTA-STS enforce: refuses an MX the policy does not list (temporary failure, retried)', async () => {
    const before = mta.messages.length;
    const result = await send(deliverer({ mtaSts: true }), 'misrouted.test');
    expect(result.replies[0].code).toBe(0);
    expect(result.replies[0].response).toMatch(/MTA-STS policy check failed/);
    expect(mta.messages.length).toBe(before);
  });

  it('DANE: a DNSSEC-authenticated TLSA 3 1 1 record that matches the certificate → delivered over TLS', async () => {
    dns.records.set(`_${mta.port}._tcp.mx.dane.test`, { TLSA: [{ usage: 3, selector: 1, mtype: 1, cert: spkiSha256 }] });
    dns.authenticated.add(`_${mta.port}._tcp.mx.dane.test`);
    const result = await send(deliverer({ dane: true }), 'dane.test');
    expect(result.replies[0].response).toMatch(/^250/);
    expect(result).toMatchObject({ policy: 'dane', tls: true });
    expect(result.replies[0].code).toBe(250);
  });

  it('DANE: a TLSA record that matches nothing → nothing sent, temporary failure', async () => {
    dns.records.set(`_${mta.port}._tcp.mx.dane.test`, { TLSA: [{ usage: 3, selector: 1, mtype: 1, cert: Buffer.alloc(32, 7) }] });
    dns.authenticated.add(`_${mta.port}._tcp.mx.dane.test`);
    const before = mta.messages.length;
    const result = await send(deliverer({ dane: true }), 'dane.test');
    expect(result.policy).toBe('dane');
    expect(result.replies[0]).toMatchObject({ code: 0, response: expect.stringMatching(/DANE verification failed/) });
    expect(mta.messages.length).toBe(before);
  });

  it('DANE: TLSA records without the AD bit (unsigned zone) are ignored, as RFC 7672 says', async () => {
    dns.records.set(`_${mta.port}._tcp.mx.dane.test`, { TLSA: [{ usage: 3, selector: 1, mtype: 1, cert: Buffer.alloc(32, 7) }] });
    dns.authenticated.delete(`_${mta.port}._tcp.mx.dane.test`);
    const result = await send(deliverer({ dane: true }), 'dane.test');
    expect(result.policy).toBe('none');
    expect(result.replies[0].code).toBe(250);
  });
});
