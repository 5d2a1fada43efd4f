import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { RemoteDeliverer } from '../../src/queue/delivery/remote-deliverer.js';
import type { JobRecipient } from '../../src/queue/types.js';
import { startScriptedPeer, type ScriptedPeer } from './scripted-peer.js';
import { waitFor } from './outbound-fixture.js';

const pending = (address: string): JobRecipient => ({ address, status: 'pending' });
const body = (n: number) => Buffer.from(`Subject: reuse ${n}\r\n\r\nbody ${n}\r\n`);

describe('connection reuse towards a smarthost', () => {
  let peer: ScriptedPeer | undefined;
  let deliverer: RemoteDeliverer | undefined;
  let dataDir: string | undefined;
  afterEach(async () => {
    deliverer?.close();
    await peer?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  async function setUp(): Promise<{ peer: ScriptedPeer; deliverer: RemoteDeliverer }> {
    peer = await startScriptedPeer();
    dataDir = await mkdtemp(join(tmpdir(), 'hermod-reuse-'));
    const config = loadConfig({ env: {}, overrides: { dataDir, relay: { host: '127.0.0.1', port: peer.port }, log: { level: 'silent' } } });
    deliverer = new RemoteDeliverer(config, pino({ level: 'silent' }));
    return { peer, deliverer };
  }

  it('sends consecutive messages over one connection, with RSET between them', async () => {
    const { peer, deliverer } = await setUp();
    for (let n = 1; n <= 3; n++) {
      const result = await deliverer.deliver({ domain: 'remote.test', sender: 'a@example.test', recipients: [pending(`r${n}@remote.test`)], body: body(n) });
      expect(result.replies[0]).toMatchObject({ address: `r${n}@remote.test`, code: 250 });
    }
    expect(peer.connections()).toBe(1);
    expect(peer.messages.map((m) => m.rcptLines)).toEqual([['RCPT TO:<r1@remote.test>'], ['RCPT TO:<r2@remote.test>'], ['RCPT TO:<r3@remote.test>']]);
    const verbs = () => peer.commands.map((c) => c.split(/[ :]/)[0].toUpperCase()).filter((v) => v === 'MAIL' || v === 'RSET');
    // The RSET goes out as the session returns to the cache, before the next message is taken.
    await waitFor(() => verbs().length === 6, 5000, 'the RSET after the third message');
    expect(verbs()).toEqual(['MAIL', 'RSET', 'MAIL', 'RSET', 'MAIL', 'RSET']);
  });

  it('opens a new connection when the cached one was closed by the peer, and loses no message', async () => {
    const { peer, deliverer } = await setUp();
    await deliverer.deliver({ domain: 'remote.test', sender: 'a@example.test', recipients: [pending('one@remote.test')], body: body(1) });
    await waitFor(() => peer.commands.includes('RSET'), 5000, 'RSET on the idle session');
    peer.dropConnections();
    await new Promise((r) => setTimeout(r, 50));
    const second = await deliverer.deliver({ domain: 'remote.test', sender: 'a@example.test', recipients: [pending('two@remote.test')], body: body(2) });
    expect(second.replies[0]).toMatchObject({ address: 'two@remote.test', code: 250 });
    expect(peer.connections()).toBe(2);
    expect(peer.messages.length).toBe(2);
  });

  it('does not hand out a session whose RSET never got its reply before the connection ended', async () => {
    const { peer, deliverer } = await setUp();
    peer.script.rset = 'stall';
    await deliverer.deliver({ domain: 'remote.test', sender: 'a@example.test', recipients: [pending('one@remote.test')], body: body(1) });
    await waitFor(() => peer.commands.includes('RSET'), 5000, 'RSET on the idle session');
    const second = deliverer.deliver({ domain: 'remote.test', sender: 'a@example.test', recipients: [pending('two@remote.test')], body: body(2) });
    await new Promise((r) => setTimeout(r, 100));
    peer.script.rset = undefined;
    peer.dropConnections();
    expect((await second).replies[0]).toMatchObject({ address: 'two@remote.test', code: 250 });
    expect(peer.connections()).toBe(2);
  });
});
