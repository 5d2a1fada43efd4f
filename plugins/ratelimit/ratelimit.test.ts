import { afterEach, describe, expect, it } from 'vitest';
import { makeTransaction } from '../../test/helpers/plugin-context.js';
import { loadTestPlugin, type LoadedTestPlugin } from '../../test/helpers/plugin-runner.js';
import ratelimit, { ratelimitConfigSchema } from './index.js';

let plugin: LoadedTestPlugin | undefined;
afterEach(async () => {
  await plugin?.close();
  plugin = undefined;
});

const mail = (client: string, from = 'alice@example.org') =>
  plugin!.runStage('mail', { session: { clientAddress: client }, transaction: makeTransaction(Buffer.alloc(0), ['bob@example.com'], from) });

/** The same checks for every store. */
function limits(storeConfig: () => Record<string, unknown>) {
  const load = async (config: Record<string, unknown>) => {
    plugin = await loadTestPlugin(ratelimit, { config: { ...storeConfig(), ...config } });
  };

  it('answers 451 4.7.1 to a client over its limit, and keeps other clients apart', async () => {
    await load({ client: { points: 2, durationSeconds: 60 }, sender: { enabled: false } });
    expect((await mail('203.0.113.5')).verdicts).toEqual([]);
    const second = await mail('203.0.113.5');
    expect(second.verdicts).toEqual([]);
    expect(second.ledger[0]).toMatchObject({ verdict: 'continue', reason: 'client 203.0.113.5: 2/2 in 60s' });
    const third = await mail('203.0.113.5');
    expect(third.verdicts).toEqual([
      { action: 'tempfail', code: 451, enhanced: '4.7.1', text: expect.stringMatching(/^Rate limit exceeded, try again in \d+ seconds$/) },
    ]);
    expect(third.ledger[0]).toMatchObject({ verdict: 'tempfail', reason: expect.stringMatching(/^client 203\.0\.113\.5 over 2 in 60s; Rate limit/) });
    expect((await mail('203.0.113.6')).verdicts).toEqual([]);
  });

  it('limits a sender across client addresses, any case, and never the null sender', async () => {
    await load({ client: { enabled: false }, sender: { points: 1, durationSeconds: 60 } });
    expect((await mail('203.0.113.5', 'news@shop.example')).verdicts).toEqual([]);
    expect((await mail('198.51.100.1', 'NEWS@shop.example')).verdicts[0]).toMatchObject({ action: 'tempfail', enhanced: '4.7.1' });
    expect((await mail('203.0.113.5', 'other@shop.example')).verdicts).toEqual([]);
    for (let i = 0; i < 3; i++) expect((await mail('203.0.113.5', '')).verdicts).toEqual([]);
  });

  it('counts connections when on: connect', async () => {
    await load({ client: { points: 1, durationSeconds: 60, on: 'connect' }, sender: { enabled: false } });
    expect((await plugin!.runStage('connect', { session: { clientAddress: '203.0.113.5' } })).verdicts).toEqual([]);
    expect((await plugin!.runStage('connect', { session: { clientAddress: '203.0.113.5' } })).verdicts[0]).toMatchObject({ action: 'tempfail' });
    // Transactions are not counted again.
    expect((await mail('203.0.113.5')).verdicts).toEqual([]);
  });

  it('never limits allowed clients', async () => {
    await load({ client: { points: 1, durationSeconds: 60 } });
    for (let i = 0; i < 3; i++) expect((await mail('127.0.0.1')).verdicts).toEqual([]);
  });

  it('lets a client in again once its window has passed', async () => {
    await load({ client: { points: 1, durationSeconds: 1 }, sender: { enabled: false } });
    await mail('203.0.113.5');
    expect((await mail('203.0.113.5')).verdicts).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await mail('203.0.113.5')).verdicts).toEqual([]);
  });
}

describe('ratelimit plugin, memory store', () => {
  limits(() => ({ store: 'memory' }));
});

describe.skipIf(!process.env.HERMOD_TEST_REDIS_URL)('ratelimit plugin, Redis store', () => {
  limits(() => ({
    store: 'redis',
    redis: { url: process.env.HERMOD_TEST_REDIS_URL, keyPrefix: `hermod-test-${process.pid}-${Math.random().toString(36).slice(2)}:` },
  }));
});

describe('ratelimit plugin when Redis is down', () => {
  const down = { store: 'redis', redis: { url: 'redis://127.0.0.1:1' } };

  it('tempfails with 451 4.3.0 unless failOpen', async () => {
    plugin = await loadTestPlugin(ratelimit, { config: down });
    expect((await mail('203.0.113.5')).verdicts[0]).toMatchObject({ action: 'tempfail', code: 451, enhanced: '4.3.0' });
    await plugin.close();
    plugin = await loadTestPlugin(ratelimit, { config: down, failOpen: true });
    const open = await mail('203.0.113.5');
    expect(open.verdicts).toEqual([]);
    expect(open.ledger[0].verdict).toBe('error-ignored');
  });

  it('has a default for every key', () => {
    expect(ratelimitConfigSchema.parse({})).toMatchObject({
      store: 'memory',
      client: { enabled: true, points: 60, durationSeconds: 60, on: 'mail' },
      sender: { enabled: true, points: 300, durationSeconds: 3600 },
    });
  });
});
