import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authenticate } from 'mailauth';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { checkKeySize, DkimKeys } from '../../src/queue/dkim-keys.js';
import { dkimDomain } from '../../src/queue/dkim-key-path.js';
import { activateDkimKey } from '../../src/queue/dkim-lifecycle.js';
import { recordName, recordValue } from '../../src/queue/dkim-record.js';
import { DkimSigner } from '../../src/queue/dkim-signer.js';
import { startTestDnsServer, tableResolver, type TestDnsServer } from '../helpers/test-dns-server.js';
import { createDnsClient } from '../../src/net/dns-resolver.js';

const root = mkdtempSync(join(tmpdir(), 'hermod-dkim-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshKeys = () => new DkimKeys(join(root, `keys-${++n}`));
const message = (from: string) => Buffer.from(`From: ${from}\r\nTo: bob@remote.test\r\nSubject: hi\r\nMessage-ID: <m${n}@example.test>\r\n\r\nHello.\r\n`);

describe('DKIM key lifecycle', () => {
  it('generates an inactive key; activate switches signing; the previous key stays until removed', () => {
    const keys = freshKeys();
    keys.generate('example.test', 'first');
    expect(keys.forDomain('example.test')).toBeNull();
    expect(keys.activate('example.test', 'first')).toEqual({ previous: null });
    expect(keys.forDomain('EXAMPLE.test')?.selector).toBe('first');
    keys.generate('example.test', 'second', { algorithm: 'ed25519' });
    expect(keys.forDomain('example.test')?.selector).toBe('first');
    expect(keys.activate('example.test', 'second')).toEqual({ previous: 'first' });
    expect(keys.forDomain('example.test')).toMatchObject({ selector: 'second', algorithm: 'ed25519' });
    expect(keys.list('example.test').map((k) => [k.selector, k.algorithm, k.bits, k.active])).toEqual([
      ['first', 'rsa', 2048, false],
      ['second', 'ed25519', undefined, true],
    ]);
    expect(() => keys.remove('example.test', 'second')).toThrow(/activate another key before removing it/);
    keys.remove('example.test', 'first');
    expect(keys.list('example.test').map((k) => k.selector)).toEqual(['second']);
    expect(() => keys.generate('example.test', 'second')).toThrow(/already has a key with selector "second"/);
  });

  it('keeps a folder from before key states signing with its newest key, also after a new key is generated', () => {
    const dir = join(root, 'legacy');
    mkdirSync(join(dir, 'example.test'), { recursive: true });
    const pem = (bits: number) => generateKeyPairSync('rsa', { modulusLength: bits }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    writeFileSync(join(dir, 'example.test', 'old.pem'), pem(1024));
    writeFileSync(join(dir, 'example.test', 'older.pem'), pem(1024));
    utimesSync(join(dir, 'example.test', 'older.pem'), new Date(2020, 0, 1), new Date(2020, 0, 1));
    const keys = new DkimKeys(dir);
    expect(keys.forDomain('example.test')?.selector).toBe('old');
    keys.generate('example.test', 'new', { bits: 1024 });
    expect(keys.forDomain('example.test')?.selector).toBe('old');
  });

  it('refuses RSA sizes outside 1024–4096 at once, and --bits for Ed25519', () => {
    for (const bits of [512, 1023, 100_000, 2047]) expect(() => checkKeySize('rsa', bits)).toThrow(/1024 to 4096 bits/);
    expect(checkKeySize('rsa', undefined)).toBe(2048);
    expect(checkKeySize('rsa', 4096)).toBe(4096);
    expect(() => checkKeySize('ed25519', 2048)).toThrow(/RSA keys only/);
    expect(() => freshKeys().generate('example.test', 's', { bits: 512 })).toThrow(/1024 to 4096 bits/);
  });

  it('validates the domain (IDNA, no "/" or "..") and never reads outside keyDir', () => {
    expect(dkimDomain('Bücher.Example')).toBe('xn--bcher-kva.example');
    for (const bad of ['../../..', 'x@../../..', 'a/b.example', 'a\\b.example', 'a..b.example', '..', 'localhost', 'a\0.example', '1.2.3.4']) {
      expect(dkimDomain(bad)).toBeNull();
    }
    const keys = freshKeys();
    expect(() => keys.generate('../../etc', 's')).toThrow(/invalid domain/);
    expect(keys.forDomain('../../..')).toBeNull();
    // A domain folder that is a link to somewhere else is refused, for the signer too.
    const dir = join(root, 'linked');
    const outside = join(root, 'outside');
    mkdirSync(join(outside), { recursive: true });
    const elsewhere = new DkimKeys(outside);
    mkdirSync(dir, { recursive: true });
    const made = new DkimKeys(join(root, 'outside-src'));
    made.generate('evil.test', 's');
    made.activate('evil.test', 's');
    symlinkSync(join(root, 'outside-src', 'evil.test'), join(dir, 'evil.test'));
    expect(new DkimKeys(dir).forDomain('evil.test')).toBeNull();
    expect(() => new DkimKeys(dir).list('evil.test')).toThrow(/leaves dkim.keyDir/);
    expect(elsewhere.forDomain('evil.test')).toBeNull();
  });

  it('signs with the active RSA or Ed25519 key, and mailauth verifies both against the published record', async () => {
    for (const algorithm of ['rsa', 'ed25519'] as const) {
      const keys = freshKeys();
      keys.generate('example.test', `k${algorithm}`, { algorithm });
      const signer = new DkimSigner(keys, pino({ level: 'silent' }));
      const raw = message('alice@example.test');
      expect(await signer.sign(raw, 'alice@example.test')).toEqual(raw);
      keys.activate('example.test', `k${algorithm}`);
      const signed = await signer.sign(raw, 'alice@example.test');
      expect(signed.toString()).toMatch(new RegExp(`^DKIM-Signature: .*a=${algorithm}-sha256`, 'm'));
      const key = keys.forDomain('example.test')!;
      const result = await authenticate(signed, {
        ip: '127.0.0.1',
        helo: 'localhost',
        sender: 'alice@example.test',
        resolver: tableResolver({ [recordName(key)]: { TXT: [recordValue(key)] } }),
        disableArc: true,
        disableBimi: true,
      } as Parameters<typeof authenticate>[1]);
      expect(result.dkim.results[0].status.result).toBe('pass');
    }
  });
});

describe('DKIM activation after a DNS check', () => {
  let dns: TestDnsServer | undefined;
  afterEach(async () => {
    await dns?.close();
    dns = undefined;
  });

  it('refuses to activate a key whose record is missing or different, and activates once it is published', async () => {
    dns = await startTestDnsServer();
    const client = createDnsClient({ servers: [dns.address], timeoutMs: 2000, tries: 1 });
    try {
      const keys = freshKeys();
      const { key } = keys.generate('example.test', 'sel');
      await expect(activateDkimKey(keys, 'example.test', 'sel', client.lookup)).rejects.toThrow(/sel\._domainkey\.example\.test has no DKIM record/);
      dns.records.set('sel._domainkey.example.test', { TXT: ['v=DKIM1; k=rsa; p=AAAA'] });
      await expect(activateDkimKey(keys, 'example.test', 'sel', client.lookup)).rejects.toThrow(/holds a different key/);
      expect(keys.forDomain('example.test')).toBeNull();
      dns.records.set('sel._domainkey.example.test', { TXT: [recordValue(key)] });
      const done = await activateDkimKey(keys, 'example.test', 'sel', client.lookup);
      expect(done).toMatchObject({ selector: 'sel', previous: null, check: { status: 'match' } });
      expect(keys.forDomain('example.test')?.selector).toBe('sel');
    } finally {
      client.close();
    }
  });
});
