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

  const send = (d: RemoteDeliverer, n: number) =>
    d.deliver({ domain: 'remote.test', sender: 'a@example.test', recipients: [pending(`r${n}@remote.test`)], body: body(n) });
  const verbs = (p: ScriptedPeer) => p.commands.map((c) => c.split(/[ :]/)[0].toUpperCase()).filter((v) => v === 'MAIL' || v === 'RSET');

  it('sends consecutive messages over one connection, with no RSET after an accepted message', async () => {
    const { peer, deliverer } = await setUp();
    for (let n = 1; n <= 3; n++) {
      const result = await send(deliverer, n);
      expect(result.replies[0]).toMatchObject({ address: `r${n}@remote.test`, code: 250 });
    }
    expect(peer.connections()).toBe(1);
    expect(peer.messages.map((m) => m.rcptLines)).toEqual([['RCPT TO:<r1@remote.test>'], ['RCPT TO:<r2@remote.test>'], ['RCPT TO:<r3@remote.test>']]);
    expect(verbs(peer)).toEqual(['MAIL', 'MAIL', 'MAIL']);
  });

  it('opens a new connection when the cached one was closed by the peer, and loses no message', async () => {
    const { peer, deliverer } = await setUp();
    await send(deliverer, 1);
    peer.dropConnections();
    await new Promise((r) => setTimeout(r, 50));
    expect((await send(deliverer, 2)).replies[0]).toMatchObject({ address: 'r2@remote.test', code: 250 });
    expect(peer.connections()).toBe(2);
    expect(peer.messages.length).toBe(2);
  });

  it('sends again on a new connection when the cached one dies before any reply, without a retry later', async () => {
    const { peer, deliverer } = await setUp();
    await send(deliverer, 1);
    // No pause: the session still looks open when it is taken, and its commands meet a closed socket.
    peer.dropConnections();
    expect((await send(deliverer, 2)).replies[0]).toMatchObject({ address: 'r2@remote.test', code: 250 });
    expect(peer.messages.map((m) => m.rcptLines)).toEqual([['RCPT TO:<r1@remote.test>'], ['RCPT TO:<r2@remote.test>']]);
  });

  it('never sends a message again when a cached connection dies after its body went out', async () => {
    const { peer, deliverer } = await setUp();
    await send(deliverer, 1);
    peer.script.stallAfterDataMs = 3000;
    const second = send(deliverer, 2);
    await waitFor(() => peer.messages.length === 2, 5000, 'the second body at the peer');
    peer.dropConnections();
    expect((await second).replies[0]).toMatchObject({ address: 'r2@remote.test', code: 0 });
    expect(peer.connections()).toBe(1);
    expect(peer.messages.length).toBe(2);
  });

  it('checks a session idle for over a second with RSET, and replaces it when that RSET dies unanswered', async () => {
    const { peer, deliverer } = await setUp();
    await send(deliverer, 1);
    peer.script.rset = 'stall';
    await new Promise((r) => setTimeout(r, 1100));
    const second = send(deliverer, 2);
    await waitFor(() => peer.commands.includes('RSET'), 5000, 'RSET on the idle session');
    peer.script.rset = undefined;
    peer.dropConnections();
    expect((await second).replies[0]).toMatchObject({ address: 'r2@remote.test', code: 250 });
    expect(peer.connections()).toBe(2);
    expect(verbs(peer)).toEqual(['MAIL', 'RSET', 'MAIL']);
  });
});
