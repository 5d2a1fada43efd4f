import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDnsServer, type TestDnsServer } from '../helpers/test-dns-server.js';
import { errorLine, runCli, tempDir } from './run-cli.js';

describe('hermod dkim', { timeout: 120_000 }, () => {
  const tmp = tempDir();
  let dns: TestDnsServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    dns = await startTestDnsServer();
    env = { HERMOD_DATA_DIR: join(tmp.dir, 'data'), HERMOD_DELIVERY__DNS_SERVERS: dns.address };
  });
  afterAll(async () => {
    await dns.close();
    tmp.cleanup();
  });
  const cli = (...args: string[]) => runCli(args, env);

  it('refuses bad key sizes and domains in one line, exit 2, without generating anything', async () => {
    const results = await Promise.all([
      cli('dkim', 'generate', 'example.test', '--bits', '512'),
      cli('dkim', 'generate', 'example.test', '--bits', '100000'),
      cli('dkim', 'generate', 'example.test', '--type', 'ed25519', '--bits', '2048'),
      cli('dkim', 'generate', '../../etc'),
    ]);
    expect(results.map((r) => [r.code, errorLine(r)])).toEqual([
      [2, 'hermod: --bits 512: RSA keys must be 1024 to 4096 bits, a multiple of 8 (RFC 8301)'],
      [2, 'hermod: --bits 100000: RSA keys must be 1024 to 4096 bits, a multiple of 8 (RFC 8301)'],
      [2, 'hermod: --bits applies to RSA keys only (Ed25519 keys have one size)'],
      [2, 'hermod: invalid domain "../../etc": must be a domain name like example.org (IDNA allowed)'],
    ]);
  });

  it('generates inactive, checks DNS, activates only once published, and keeps the old key until removed', async () => {
    const first = await cli('dkim', 'generate', 'example.test', '--selector', 'old', '--json');
    expect(JSON.parse(first.stdout)).toMatchObject({ selector: 'old', algorithm: 'rsa', active: false });
    expect((await cli('dkim', 'activate', 'example.test', 'old')).stdout).toBe('example.test now signs with old\n');

    const gen = await cli('dkim', 'generate', 'example.test', '--selector', 'new', '--type', 'ed25519');
    expect(gen.stdout).toMatch(/^ed25519 key written to .*new\.pem \(inactive\)$/m);
    expect((await cli('dkim', 'list', 'example.test')).stdout).toMatch(/^old\s+rsa\s+2048\s+active\s.*\nnew\s+ed25519\s+-\s+inactive\s/m);

    const missing = await cli('dkim', 'check', 'example.test', 'new');
    expect(missing).toMatchObject({ code: 1, stdout: 'new._domainkey.example.test: no DKIM record\n' });
    const refused = await cli('dkim', 'activate', 'example.test', 'new', '--check');
    expect(refused.code).toBe(1);
    expect(errorLine(refused)).toMatch(/^hermod: new\._domainkey\.example\.test has no DKIM record; publish the record/);

    const shown = (await cli('dkim', 'show', 'example.test', 'new')).stdout;
    const value = [...shown.matchAll(/"([^"]*)"/g)].map((m) => m[1]).join('');
    expect(value).toMatch(/^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=$/);
    dns.records.set('new._domainkey.example.test', { TXT: [value] });
    expect((await cli('dkim', 'check', 'example.test', 'new')).stdout).toBe('new._domainkey.example.test: published, matches the key\n');
    const activated = await cli('dkim', 'activate', 'example.test', 'new', '--check');
    expect(activated.stdout).toBe(
      'example.test now signs with new; old stays published and verifying until: hermod dkim remove example.test old\n',
    );
    const refusedRemove = await cli('dkim', 'remove', 'example.test', 'new');
    expect([refusedRemove.code, errorLine(refusedRemove)]).toEqual([2, 'hermod: "new" signs for example.test; activate another key before removing it']);
    expect((await cli('dkim', 'remove', 'example.test', 'old')).code).toBe(0);
    const unknown = await cli('dkim', 'activate', 'example.test', 'old');
    expect([unknown.code, errorLine(unknown)]).toEqual([1, 'hermod: no DKIM key "old" for example.test (see: hermod dkim list example.test)']);
  });
});
