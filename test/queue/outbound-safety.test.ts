import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { outboundMessage, startOutboundHermod, waitFor, type OutboundHarness } from './outbound-fixture.js';
import { startScriptedPeer, type ScriptedPeer } from './scripted-peer.js';

let env: OutboundHarness | undefined;
let peer: ScriptedPeer | undefined;
const prefixes: string[] = [];
afterEach(async () => {
  await env?.stop();
  await peer?.stop();
  env = peer = undefined;
  const url = process.env.HERMOD_TEST_REDIS_URL;
  if (url && prefixes.length) {
    const redis = new Redis(url);
    for (const prefix of prefixes.splice(0)) {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
    }
    redis.disconnect();
  }
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Queue settings for a driver, with a unique BullMQ prefix per test. */
function driver(name: 'sqlite' | 'bullmq'): Record<string, unknown> {
  if (name === 'sqlite') return { driver: 'sqlite' };
  const prefix = `hermod-test-${process.pid}-${Math.random().toString(36).slice(2)}`;
  prefixes.push(prefix);
  return { driver: 'bullmq', bullmq: { url: process.env.HERMOD_TEST_REDIS_URL, prefix } };
}

const drivers = process.env.HERMOD_TEST_REDIS_URL ? (['sqlite', 'bullmq'] as const) : (['sqlite'] as const);

describe.each(drivers)('one job, one attempt at a time (%s queue)', (name) => {
  it('a peer that stalls after DATA for longer than the lease gets the message once, and the job one result', async () => {
    peer = await startScriptedPeer({ stallAfterDataMs: 1500 });
    env = await startOutboundHermod(peer.port, { queue: { ...driver(name), leaseMs: 300, workers: 4, pollMs: 20 } });
    await env.hermod.server.outbound!.service.submit({ sender: 'alice@example.test', recipients: ['bob@remote.test'], raw: outboundMessage(['bob@remote.test']) });
    await waitFor(() => env!.reports.length > 0, 10_000, 'first result');
    // Long enough for a second worker to have taken a lapsed lease and delivered again.
    await sleep(1200);
    expect(peer.messages).toHaveLength(1);
    expect(env.reports).toHaveLength(1);
    expect(env.reports[0]).toMatchObject({ outcome: 'completed' });
    expect(env.reports[0].recipients[0]).toMatchObject({ status: 'delivered', lastCode: 250 });
    expect(await env.hermod.server.outbound!.queue.list()).toEqual([]);
    expect(env.hermod.logs.filter((l) => l.msg === 'delivery attempt could not be recorded')).toEqual([]);
  });
});

describe('an attempt has a deadline', () => {
  it('a peer that never answers after DATA is cut off at attemptTimeoutMs and the job is retried, not lost', async () => {
    peer = await startScriptedPeer({ stallAfterDataMs: 60_000 });
    env = await startOutboundHermod(peer.port, { queue: { attemptTimeoutMs: 400, retry: { firstMs: 60_000 } } });
    await env.hermod.server.outbound!.service.submit({ sender: 'alice@example.test', recipients: ['bob@remote.test'], raw: outboundMessage(['bob@remote.test']) });
    const report = await waitFor(() => env!.reports[0], 10_000, 'the cut-off attempt');
    expect(report.outcome).toBe('deferred');
    expect(report.recipients[0]).toMatchObject({ status: 'pending', lastCode: 0, lastResponse: expect.stringMatching(/attempt deadline reached/) });
    expect((await env.hermod.server.outbound!.queue.list())[0]).toMatchObject({ state: 'deferred', attempts: 1 });
  });
});

describe('a bounce is never lost', () => {
  it('a bounce that cannot be built (sender without a domain) is logged with its reason and counted in /metrics', async () => {
    peer = await startScriptedPeer({ rcpt: { 'gone@remote.test': '550 5.1.1 No such user' } });
    env = await startOutboundHermod(peer.port, { ops: { enabled: true, port: 0 } });
    await env.hermod.server.outbound!.service.submit({ sender: 'postmaster', recipients: ['gone@remote.test'], raw: outboundMessage(['gone@remote.test']) });
    const report = await waitFor(() => env!.reports[0], 10_000, 'the bounced attempt');
    expect(report).toMatchObject({ outcome: 'completed', bounced: [] });
    const logged = env.hermod.logs.find((l) => l.msg === 'delivery status notification cannot be built; dropped');
    expect(logged).toMatchObject({ reason: 'sender_without_domain', to: 'postmaster' });
    const ops = env.hermod.server.ops!;
    const metrics = await (await fetch(`http://127.0.0.1:${ops.port}/metrics`)).text();
    expect(metrics).toMatch(/^hermod_outbound_notices_unbuildable_total\{reason="sender_without_domain"\} 1$/m);
  });
});
