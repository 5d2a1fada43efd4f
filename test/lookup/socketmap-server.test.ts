import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetstringDecoder } from '../../src/lookup/netstring.js';
import { SocketmapServer } from '../../src/lookup/socketmap-server.js';
import { startHermod, type Harness } from '../helpers/hermod-harness.js';
import { SocketmapClient } from './socketmap-client.js';

let hermod: Harness;
let port: number;
const clients: SocketmapClient[] = [];

async function client(p = port): Promise<SocketmapClient> {
  const c = await SocketmapClient.open(p);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  hermod = await startHermod({ lookup: { enabled: true, port: 0 } }, [
    { address: 'alice@example.test', aliases: ['postmaster@example.test'] },
  ]);
  port = hermod.server.lookup!.port;
});

afterAll(async () => {
  for (const c of clients) c.close();
  await hermod?.stop();
});

describe('socketmap lookups for Postfix', () => {
  it.each([
    ['domain', 'example.test', 'OK example.test'],
    ['domain', 'EXAMPLE.Test', 'OK example.test'],
    ['domain', 'other.test', 'NOTFOUND '],
    ['domain', '.test', 'NOTFOUND '],
    ['mailbox', 'alice@example.test', 'OK alice@example.test'],
    ['mailbox', 'Alice@Example.TEST', 'OK alice@example.test'],
    ['mailbox', 'postmaster@example.test', 'OK alice@example.test'],
    ['mailbox', 'bob@example.test', 'NOTFOUND '],
    ['mailbox', 'alice@other.test', 'NOTFOUND '],
    ['mailbox', '@example.test', 'NOTFOUND '],
    ['mailbox', 'alice', 'NOTFOUND '],
    ['nosuchmap', 'alice@example.test', 'PERM unknown map "nosuchmap"'],
  ])('%s %s → %s', async (map, key, expected) => {
    const c = await client();
    expect(await c.query(map, key)).toBe(expected);
  });

  it('answers many requests on one connection, in order, however the bytes are split', async () => {
    const c = await client();
    // Two requests in one write, then one request split in three writes.
    c.write('19:domain example.test,24:mailbox bob@example.test,');
    c.write('26:mailbox ali');
    c.write('ce@example.');
    c.write('test,');
    expect([await c.reply(), await c.reply(), await c.reply()]).toEqual([
      'OK example.test',
      'NOTFOUND ',
      'OK alice@example.test',
    ]);
  });

  it.each([
    ['a length that is not a number', 'xx:domain example.test,'],
    ['a missing comma', '6:domainX'],
    ['a length over the limit', '99999999:domain'],
  ])('closes the connection on %s', async (_what, bytes) => {
    const c = await client();
    c.write(bytes);
    await c.waitClosed();
  });

  it('answers TEMP when the store fails, so Postfix tempfails the RCPT instead of bouncing', async () => {
    const server = new SocketmapServer({
      host: '127.0.0.1',
      port: 0,
      maps: {
        mailbox: async () => {
          throw new Error('database is locked');
        },
      },
      log: pino({ level: 'silent' }),
      idleTimeoutMs: 5000,
    });
    const address = await server.listen();
    try {
      const c = await client(address.port);
      expect(await c.query('mailbox', 'alice@example.test')).toBe('TEMP lookup failed, try again later');
    } finally {
      await server.close();
    }
  });

  it('netstring decoder refuses a length without digits', () => {
    expect(() => new NetstringDecoder(100).push(Buffer.from(':,'))).toThrow(/without a length/);
  });
});

describe("Postfix's own socketmap client (postmap -q)", () => {
  const postmap = ['/usr/sbin/postmap', '/usr/bin/postmap'].find((p) => existsSync(p));

  it.skipIf(!postmap)('finds a mailbox and a domain, and nothing for an unknown address', async () => {
    // postmap needs a config directory; an empty main.cf is enough for a query.
    const dir = mkdtempSync(join(tmpdir(), 'hermod-postmap-'));
    writeFileSync(join(dir, 'main.cf'), 'compatibility_level = 3.6\n');
    writeFileSync(join(dir, 'master.cf'), '');
    // Async: Hermod answers from this very process, so a sync spawn would deadlock.
    const query = (map: string, key: string) =>
      new Promise<{ status: number; stdout: string }>((resolve) => {
        const args = ['-c', dir, '-q', key, `socketmap:inet:127.0.0.1:${port}:${map}`];
        execFile(postmap!, args, { timeout: 10_000 }, (err, stdout) => {
          resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout: stdout.trim() });
        });
      });
    try {
      expect(await query('mailbox', 'postmaster@example.test')).toEqual({ status: 0, stdout: 'alice@example.test' });
      expect(await query('domain', 'example.test')).toEqual({ status: 0, stdout: 'example.test' });
      // postmap exits 1 when the key is not found.
      expect(await query('mailbox', 'nobody@example.test')).toEqual({ status: 1, stdout: '' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
