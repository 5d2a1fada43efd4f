import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { RemoteDeliverer } from '../../src/queue/delivery/remote-deliverer.js';
import { startScriptedMta, type ScriptedMta } from '../helpers/scripted-mta.js';
import { startTestDnsServer, type TestDnsServer } from '../helpers/test-dns-server.js';
import { outboundMessage } from './outbound-fixture.js';

/**
 * MTA-STS (RFC 8461) end to end: the `_mta-sts` TXT record and every host name come from a test
 * DNS server, the policy from a real HTTPS server on 127.0.0.1 whose certificate is issued by a
 * CA made here with openssl (trusted through delivery.caFile), and the MX is a real STARTTLS
 * peer: one with a certificate from that CA, one with a self-signed certificate nobody trusts.
 */
let dir: string;
let caFile: string;
let trusted: ScriptedMta;
let rogue: ScriptedMta;
let dns: TestDnsServer;
let https: Server;
let httpsPort: number;
/** Policy documents by policy host; a missing one gets 404. */
const policies = new Map<string, string>();
/** Fetches per policy host. */
const fetches = new Map<string, number>();
let policyServerDown = false;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A CA, a certificate it issued for the good MX and every policy host, and a self-signed one. */
function makeCertificates(): void {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Hermod Test CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=mx.good.test');
  const names = ['mx.good.test', 'mta-sts.secure.test', 'mta-sts.badcert.test', 'mta-sts.testing.test', 'mta-sts.misrouted.test', 'mta-sts.fallback.test', 'mta-sts.cached.test', 'mta-sts.wrongname.test', 'mta-sts.persist.test'];
  writeFileSync(join(dir, 'leaf.ext'), `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\n`);
  openssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.pem', '-days', '2', '-extfile', 'leaf.ext');
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'rogue.key', '-out', 'rogue.pem', '-days', '2', '-subj', '/CN=mx.bad.test', '-addext', 'subjectAltName=DNS:mx.bad.test');
}

const read = (name: string) => readFileSync(join(dir, name), 'utf8');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hermod-mta-sts-'));
  makeCertificates();
  caFile = join(dir, 'ca.pem');
  trusted = await startScriptedMta({ tls: { key: read('leaf.key'), cert: read('leaf.pem') } });
  rogue = await startScriptedMta({ tls: { key: read('rogue.key'), cert: read('rogue.pem') } });
  https = createServer({ key: read('leaf.key'), cert: read('leaf.pem') }, (req, res) => {
    const host = String(req.headers.host ?? '');
    fetches.set(host, (fetches.get(host) ?? 0) + 1);
    const body = policies.get(host);
    if (policyServerDown) return void res.writeHead(503).end();
    if (!body || req.url !== '/.well-known/mta-sts.txt') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/plain' }).end(body);
  });
  await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', () => resolve()));
  httpsPort = (https.address() as AddressInfo).port;
  dns = await startTestDnsServer({ 'mx.good.test': { A: ['127.0.0.1'] }, 'mx.bad.test': { A: ['127.0.0.1'] }, 'mx.evil.test': { A: ['127.0.0.1'] } });
});

afterAll(async () => {
  await trusted?.stop();
  await rogue?.stop();
  await new Promise((resolve) => https?.close(resolve));
  await dns?.close();
});

/** Publishes a domain: its MX, its `_mta-sts` record and its policy document. */
function publish(domain: string, mx: string, id: string, policy: string): void {
  dns.records.set(domain, { MX: [{ exchange: mx, priority: 10 }] });
  dns.records.set(`_mta-sts.${domain}`, { TXT: [`v=STSv1; id=${id}`] });
  dns.records.set(`mta-sts.${domain}`, { A: ['127.0.0.1'] });
  policies.set(`mta-sts.${domain}`, policy);
}

const policyText = (mode: string, mx: string[], maxAge = 86400) =>
  ['version: STSv1', `mode: ${mode}`, ...mx.map((m) => `mx: ${m}`), `max_age: ${maxAge}`, ''].join('\r\n');

interface Logged {
  msg: string;
  [key: string]: unknown;
}

function deliverer(mta: ScriptedMta, logs: Logged[] = [], dataDir = mkdtempSync(join(tmpdir(), 'hermod-mta-sts-data-'))): RemoteDeliverer {
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir,
      delivery: {
        port: mta.port,
        dnsServers: [dns.address],
        allowLocalAddresses: true,
        dane: false,
        caFile,
        connectTimeoutMs: 3000,
        mtaSts: { enabled: true, policyPort: httpsPort, fetchTimeoutMs: 3000 },
        connectionReuse: { enabled: false },
      },
    },
  });
  const sink = new Writable({
    write(line: Buffer, _enc, done) {
      logs.push(JSON.parse(line.toString()) as Logged);
      done();
    },
  });
  return new RemoteDeliverer(config, pino({ level: 'info' }, sink));
}

function send(d: RemoteDeliverer, domain: string) {
  const recipients = [{ address: `bob@${domain}`, status: 'pending' as const }];
  return d.deliver({ domain, sender: 'alice@example.test', recipients, body: outboundMessage([`bob@${domain}`]) });
}

describe('MTA-STS policies fetched over HTTPS', () => {
  it('enforce, MX listed (by a wildcard) and a valid certificate: delivered over verified TLS', async () => {
    publish('secure.test', 'mx.good.test', 'a1', policyText('enforce', ['*.good.test']));
    const before = trusted.messages.length;
    const d = deliverer(trusted);
    const result = await send(d, 'secure.test');
    d.close();
    expect(result).toMatchObject({ policy: 'mta-sts', tls: true, remoteMta: 'mx.good.test[127.0.0.1]' });
    expect(result.replies[0].code).toBe(250);
    expect(trusted.messages.length).toBe(before + 1);
    expect(fetches.get('mta-sts.secure.test')).toBe(1);
  });

  it('enforce, certificate not valid for PKIX: nothing sent, temporary failure (deferred, not bounced)', async () => {
    publish('badcert.test', 'mx.bad.test', 'b1', policyText('enforce', ['mx.bad.test']));
    const d = deliverer(rogue);
    const result = await send(d, 'badcert.test');
    d.close();
    expect(result.policy).toBe('mta-sts');
    expect(result.replies[0].code).toBe(0);
    expect(result.replies[0].response).toMatch(/certificate/i);
    expect(rogue.messages.filter((m) => m.to.includes('bob@badcert.test'))).toHaveLength(0);
  });

  it('enforce, MX not listed in the policy: that MX is not used, temporary failure', async () => {
    publish('misrouted.test', 'mx.evil.test', 'c1', policyText('enforce', ['mx.good.test']));
    const before = trusted.messages.length;
    const d = deliverer(trusted);
    const result = await send(d, 'misrouted.test');
    d.close();
    expect(result.replies[0]).toMatchObject({ code: 0, response: expect.stringMatching(/MTA-STS policy check failed.*mx\.evil\.test/) });
    expect(trusted.messages.length).toBe(before);
  });

  it('enforce, a trusted certificate that does not name the MX: temporary failure', async () => {
    // mx2.good.test matches the policy's *.good.test, but the certificate names mx.good.test only.
    dns.records.set('mx2.good.test', { A: ['127.0.0.1'] });
    publish('wrongname.test', 'mx2.good.test', 'h1', policyText('enforce', ['*.good.test']));
    dns.records.set('mta-sts.wrongname.test', { A: ['127.0.0.1'] });
    const before = trusted.messages.length;
    const d = deliverer(trusted);
    const result = await send(d, 'wrongname.test');
    d.close();
    expect(result.replies[0]).toMatchObject({ code: 0, response: expect.stringMatching(/mx2\.good\.test/) });
    expect(trusted.messages.length).toBe(before);
  });

  it('a policy host whose certificate does not name it gives no policy: delivered as without one', async () => {
    // The policy server's certificate does not list mta-sts.unnamed.test.
    publish('unnamed.test', 'mx.bad.test', 'i1', policyText('enforce', ['mx.good.test']));
    const logs: Logged[] = [];
    const d = deliverer(rogue, logs);
    const result = await send(d, 'unnamed.test');
    d.close();
    expect(result).toMatchObject({ policy: 'none' });
    expect(result.replies[0].code).toBe(250);
    expect(logs.find((l) => l.msg === 'mta-sts: policy fetch failed')).toMatchObject({ domain: 'unnamed.test', using: 'no policy' });
  });

  it('testing, MX not listed and certificate not valid: delivered, and both failures are logged', async () => {
    publish('testing.test', 'mx.bad.test', 'd1', policyText('testing', ['mx.other.test']));
    const logs: Logged[] = [];
    const d = deliverer(rogue, logs);
    const result = await send(d, 'testing.test');
    d.close();
    expect(result).toMatchObject({ policy: 'mta-sts-testing', tls: true });
    expect(result.replies[0].code).toBe(250);
    expect(rogue.messages.some((m) => m.to.includes('bob@testing.test'))).toBe(true);
    const warnings = logs.filter((l) => l.msg === 'mta-sts: testing policy not met; delivering anyway');
    expect(warnings).toEqual([
      expect.objectContaining({ domain: 'testing.test', mx: 'mx.bad.test', policyId: 'd1', problem: 'MX host not listed in the policy' }),
      expect.objectContaining({ domain: 'testing.test', mx: 'mx.bad.test', policyId: 'd1', problem: expect.stringMatching(/not trusted/) }),
    ]);
  });

  it('mode none: the policy is ignored (opportunistic TLS to an untrusted certificate)', async () => {
    publish('none.test', 'mx.bad.test', 'e1', policyText('none', []));
    dns.records.set('mta-sts.none.test', { A: ['127.0.0.1'] });
    const d = deliverer(rogue);
    const result = await send(d, 'none.test');
    d.close();
    expect(result).toMatchObject({ policy: 'none', tls: true });
    expect(result.replies[0].code).toBe(250);
  });

  it('cached for max_age: no refetch while the TXT id is unchanged; a new id is fetched', async () => {
    publish('cached.test', 'mx.good.test', 'f1', policyText('enforce', ['mx.good.test']));
    const d = deliverer(trusted);
    for (let i = 0; i < 3; i++) expect((await send(d, 'cached.test')).replies[0].code).toBe(250);
    expect(fetches.get('mta-sts.cached.test')).toBe(1);
    dns.records.set('_mta-sts.cached.test', { TXT: ['v=STSv1; id=f2'] });
    expect((await send(d, 'cached.test')).replies[0].code).toBe(250);
    d.close();
    expect(fetches.get('mta-sts.cached.test')).toBe(2);
  });

  it('the cache survives a restart (delivery.mtaSts.cacheFile under dataDir)', async () => {
    publish('persist.test', 'mx.good.test', 'j1', policyText('enforce', ['mx.good.test']));
    dns.records.set('mta-sts.persist.test', { A: ['127.0.0.1'] });
    const dataDir = mkdtempSync(join(tmpdir(), 'hermod-mta-sts-data-'));
    const first = deliverer(trusted, [], dataDir);
    expect((await send(first, 'persist.test')).replies[0].code).toBe(250);
    first.close();
    expect(JSON.parse(readFileSync(join(dataDir, 'mta-sts-cache.json'), 'utf8'))).toEqual([
      ['persist.test', expect.objectContaining({ id: 'j1', mode: 'enforce', mx: ['mx.good.test'] })],
    ]);
    // After the restart the MX is redirected and the policy host is unreachable: the policy holds.
    dns.records.set('persist.test', { MX: [{ exchange: 'mx.evil.test', priority: 10 }] });
    policyServerDown = true;
    try {
      const second = deliverer(trusted, [], dataDir);
      const result = await send(second, 'persist.test');
      second.close();
      expect(result.replies[0]).toMatchObject({ code: 0, response: expect.stringMatching(/MTA-STS policy check failed/) });
      expect(fetches.get('mta-sts.persist.test')).toBe(1);
    } finally {
      policyServerDown = false;
    }
  });

  it('a failed fetch keeps applying the cached enforce policy', async () => {
    publish('fallback.test', 'mx.good.test', 'g1', policyText('enforce', ['mx.good.test']));
    const d = deliverer(trusted);
    expect((await send(d, 'fallback.test')).replies[0].code).toBe(250);
    // An attacker now answers DNS: new MX, a new policy id, and the policy host unreachable.
    dns.records.set('fallback.test', { MX: [{ exchange: 'mx.evil.test', priority: 10 }] });
    dns.records.set('_mta-sts.fallback.test', { TXT: ['v=STSv1; id=g2'] });
    policyServerDown = true;
    try {
      const result = await send(d, 'fallback.test');
      expect(result.replies[0]).toMatchObject({ code: 0, response: expect.stringMatching(/MTA-STS policy check failed/) });
      expect(fetches.get('mta-sts.fallback.test')).toBe(2);
    } finally {
      policyServerDown = false;
      d.close();
    }
  });
});
