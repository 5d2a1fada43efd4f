import { createRequire } from 'node:module';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SocketmapServer } from '../../src/lookup/socketmap-server.js';

/**
 * The Haraka plugin's own parts (plain CommonJS, as Haraka loads them): its socketmap client
 * against Hermod's real socketmap server, and the XCLIENT command it builds from what Haraka knew.
 */
const require = createRequire(import.meta.url);
const { SocketmapClient, NetstringReader } = require('../../haraka/plugins/hermod/lib/socketmap-client.js') as {
  SocketmapClient: new (o: { host: string; port: number; timeoutMs?: number; connections?: number }) => {
    lookup(map: string, key: string): Promise<{ status: string; value: string }>;
    close(): void;
  };
  NetstringReader: new (max: number) => { push(chunk: Buffer): string[] };
};
const { xclientCommand, xtext } = require('../../haraka/plugins/hermod/lib/xclient.js') as {
  xclientCommand(client: Record<string, unknown>): string;
  xtext(value: string): string;
};

const log = pino({ level: 'silent' });
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0)) await fn();
});

async function lookupServer(idleTimeoutMs = 60_000): Promise<{ server: SocketmapServer; port: number }> {
  const server = new SocketmapServer({
    host: '127.0.0.1',
    port: 0,
    idleTimeoutMs,
    log,
    maps: {
      mailbox: async (key) => (key === 'alice@example.test' ? 'alice@example.test' : null),
      domain: async () => {
        throw new Error('store down');
      },
    },
  });
  const { port } = await server.listen();
  cleanup.push(() => server.close());
  return { server, port };
}

function client(port: number, timeoutMs = 2000) {
  const c = new SocketmapClient({ host: '127.0.0.1', port, timeoutMs, connections: 2 });
  cleanup.push(() => c.close());
  return c;
}

describe('socketmap client against Hermod’s lookup service', () => {
  it('answers OK, NOTFOUND and TEMP as Hermod says them, many lookups in flight', async () => {
    const { port } = await lookupServer();
    const c = client(port);
    const answers = await Promise.all([
      c.lookup('mailbox', 'alice@example.test'),
      c.lookup('mailbox', 'nobody@example.test'),
      c.lookup('domain', 'example.test'),
      ...Array.from({ length: 20 }, (_, i) => c.lookup('mailbox', i % 2 ? 'alice@example.test' : `x${i}@example.test`)),
    ]);
    expect(answers.slice(0, 3)).toEqual([
      { status: 'OK', value: 'alice@example.test' },
      { status: 'NOTFOUND', value: '' },
      { status: 'TEMP', value: 'lookup failed, try again later' },
    ]);
    answers.slice(3).forEach((a, i) => expect(a.status).toBe(i % 2 ? 'OK' : 'NOTFOUND'));
  });

  it('reconnects after Hermod closed an idle connection', async () => {
    const { port } = await lookupServer(100);
    const c = client(port);
    expect((await c.lookup('mailbox', 'alice@example.test')).status).toBe('OK');
    await new Promise((r) => setTimeout(r, 300));
    expect((await c.lookup('mailbox', 'alice@example.test')).status).toBe('OK');
  });

  it('rejects when nothing listens (the plugin answers 451 4.3.0)', async () => {
    const { server, port } = await lookupServer();
    await server.close();
    await expect(client(port).lookup('mailbox', 'alice@example.test')).rejects.toThrow();
  });
});

describe('netstring reader', () => {
  it('splits replies across chunks and refuses oversized or malformed frames', () => {
    const reader = new NetstringReader(100);
    expect(reader.push(Buffer.from('3:OK '))).toEqual([]);
    expect(reader.push(Buffer.from(',9:NOTFOUND ,'))).toEqual(['OK ', 'NOTFOUND ']);
    expect(() => new NetstringReader(100).push(Buffer.from('101:'))).toThrow(/over 100/);
    expect(() => new NetstringReader(100).push(Buffer.from('2:OK;'))).toThrow(/comma/);
    expect(() => new NetstringReader(100).push(Buffer.from('12345678901'))).toThrow(/too long/);
  });
});

describe('XCLIENT command', () => {
  it('names the client; what Haraka does not know, or cannot be sent, is [UNAVAILABLE]', () => {
    expect(xclientCommand({ addr: '192.0.2.9', port: 41000, name: 'client.remote.test', helo: 'Client.Remote.Test', proto: 'ESMTP' })).toBe(
      'XCLIENT ADDR=192.0.2.9 NAME=client.remote.test PORT=41000 HELO=Client.Remote.Test PROTO=ESMTP',
    );
    expect(xclientCommand({ addr: '2001:db8::7', port: 0, name: 'DNSERROR!', helo: 'bad\u0001helo', proto: 'SMTP' })).toBe(
      'XCLIENT ADDR=IPV6:2001:db8::7 NAME=[UNAVAILABLE] PORT=[UNAVAILABLE] HELO=[UNAVAILABLE] PROTO=SMTP',
    );
    expect(xclientCommand({ addr: null, port: null, name: null, helo: null })).toBe(
      'XCLIENT ADDR=[UNAVAILABLE] NAME=[UNAVAILABLE] PORT=[UNAVAILABLE] HELO=[UNAVAILABLE] PROTO=ESMTP',
    );
  });

  it('xtext-encodes the HELO name: + and = and spaces cannot break the command', () => {
    expect(xtext('a+b=c')).toBe('a+2Bb+3Dc');
    expect(xclientCommand({ addr: '192.0.2.9', helo: '[192.0.2.9]+x=y' })).toContain('HELO=[192.0.2.9]+2Bx+3Dy ');
  });
});
