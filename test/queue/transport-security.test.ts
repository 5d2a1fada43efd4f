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
 * DANE and opportunistic TLS through the real mx-connect path: MX, A and TLSA answers come from a
 * test DNS server (TLSA with or without the AD bit of a validating resolver), the peer is a real
 * STARTTLS server with a certificate made for the test. MTA-STS has its own file (mta-sts.test.ts).
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
    'mx.good.test': { A: ['127.0.0.1'] },
    'dane.test': { MX: [{ exchange: 'mx.dane.test', priority: 10 }] },
    'mx.dane.test': { A: ['127.0.0.1'] },
  });
});

afterAll(async () => {
  await mta?.stop();
  await dns?.close();
});

function deliverer(options: { dane?: boolean } = {}): RemoteDeliverer {
  const config = loadConfig({
    env: {},
    overrides: {
      delivery: { port: mta.port, dnsServers: [dns.address], allowLocalAddresses: true, mtaSts: false, dane: options.dane ?? false, caFile, connectTimeoutMs: 3000 },
    },
  });
  return new RemoteDeliverer(config, pino({ level: 'silent' }));
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
