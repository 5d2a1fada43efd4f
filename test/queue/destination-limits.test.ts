import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startScriptedMta, type ScriptedMta } from '../helpers/scripted-mta.js';
import { outboundMessage, startOutboundHermod, waitFor, type OutboundHarness } from './outbound-fixture.js';

let env: OutboundHarness | undefined;
let mta: ScriptedMta | undefined;
let prefix: string | undefined;
afterEach(async () => {
  await env?.stop();
  await mta?.stop();
  if (prefix && process.env.HERMOD_TEST_REDIS_URL) {
    const redis = new Redis(process.env.HERMOD_TEST_REDIS_URL);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }
  env = mta = prefix = undefined;
});

const drivers: [string, () => Record<string, unknown>][] = [
  ['sqlite', () => ({ driver: 'sqlite' })],
];
if (process.env.HERMOD_TEST_REDIS_URL) {
  drivers.push([
    'bullmq',
    () => {
      prefix = `hermod-test-${process.pid}-${Math.random().toString(36).slice(2)}`;
      return { driver: 'bullmq', bullmq: { url: process.env.HERMOD_TEST_REDIS_URL, prefix } };
    },
  ]);
}

describe.each(drivers)('per-destination limits, %s driver', (_name, driver) => {
  it('never opens more sessions to one domain than its concurrency, and delivers everything', async () => {
    mta = await startScriptedMta();
    env = await startOutboundHermod(mta.port, {
      queue: { ...driver(), workers: 8, perDestination: { concurrency: 5, domains: { 'remote.test': { concurrency: 2 } } } },
    });
    const { service } = env.hermod.server.outbound!;
    for (let i = 0; i < 12; i++) {
      await service.submit({ sender: 'alice@example.test', recipients: [`r${i}@remote.test`], raw: outboundMessage([`r${i}@remote.test`], `m${i}`) });
    }
    await waitFor(() => env!.reports.filter((r) => r.outcome === 'completed').length === 12, 20_000, 'twelve deliveries');
    expect(mta.messages).toHaveLength(12);
    expect(mta.maxConcurrent()).toBeLessThanOrEqual(2);
    expect(await env.hermod.server.outbound!.queue.list()).toEqual([]);
    // Postponed for the limit is not an attempt: every job was tried once.
    expect(env.reports.every((r) => r.job.attempts === 0)).toBe(true);
  });
});
