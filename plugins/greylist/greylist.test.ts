import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeTransaction } from '../../test/helpers/plugin-context.js';
import { loadTestPlugin, type LoadedTestPlugin } from '../../test/helpers/plugin-runner.js';
import greylist, { greylistConfigSchema } from './index.js';
import { clientNetwork, decideTriplet, tripletKey } from './triplet.js';

const T0 = new Date('2026-03-10T12:00:00Z').getTime();
const timing = { delaySeconds: 300, retryWindowSeconds: 3600, passSeconds: 86_400 };

describe('the greylisting rule', () => {
  it.each([
    ['first sight', undefined, T0, 'new', 300],
    ['retry too early', { firstSeen: T0, passedUntil: 0 }, T0 + 120_000, 'early', 180],
    ['retry after the delay', { firstSeen: T0, passedUntil: 0 }, T0 + 300_000, 'passed', undefined],
    ['retry after the window', { firstSeen: T0, passedUntil: 0 }, T0 + 3_601_000, 'new', 300],
    ['known triplet', { firstSeen: T0, passedUntil: T0 + 10_000 }, T0 + 5_000, 'known', undefined],
    ['pass lapsed', { firstSeen: T0, passedUntil: T0 + 10_000 }, T0 + 10_001, 'new', 300],
  ] as const)('%s → %s', (_name, record, now, state, retry) => {
    const decision = decideTriplet(record, now, timing);
    expect(decision.state).toBe(state);
    expect(decision.retryAfterSeconds).toBe(retry);
  });

  it('renews a pass on each message and keeps the first sighting', () => {
    const decision = decideTriplet({ firstSeen: T0, passedUntil: T0 + 10_000 }, T0 + 5_000, timing);
    expect(decision.write).toEqual({ record: { firstSeen: T0, passedUntil: T0 + 5_000 + 86_400_000 }, expiresAt: T0 + 5_000 + 86_400_000 });
    expect(decideTriplet({ firstSeen: T0, passedUntil: 0 }, T0 + 1000, timing).write).toBeUndefined();
  });

  it('builds triplets from the client network, any case, <> for the null sender', () => {
    const prefixes = { ipv4Prefix: 24, ipv6Prefix: 64 };
    expect(clientNetwork('192.0.2.77', prefixes)).toBe('192.0.2.0/24');
    expect(clientNetwork('::ffff:192.0.2.77', prefixes)).toBe('192.0.2.0/24');
    expect(clientNetwork('2001:db8:1:2:3:4:5:6', prefixes)).toBe('2001:db8:1:2::/64');
    expect(clientNetwork('192.0.2.77', { ipv4Prefix: 28, ipv6Prefix: 64 })).toBe('192.0.2.64/28');
    expect(tripletKey('192.0.2.0/24', 'Alice@Example.ORG', 'Bob@example.com')).toBe('192.0.2.0/24|alice@example.org|bob@example.com');
    expect(tripletKey('192.0.2.0/24', '', 'bob@example.com')).toBe('192.0.2.0/24|<>|bob@example.com');
  });
});

/** Shared flow for every store: first try refused, early retry refused, retry after the delay passes. */
function greylistFlow(storeConfig: () => Record<string, unknown>) {
  let dataDir: string;
  let plugin: LoadedTestPlugin | undefined;
  let store: Record<string, unknown>;

  beforeEach(() => {
    store = storeConfig();
    dataDir = mkdtempSync(join(tmpdir(), 'hermod-greylist-'));
    vi.useFakeTimers({ now: T0, toFake: ['Date'] });
  });
  afterEach(async () => {
    await plugin?.close();
    plugin = undefined;
    vi.useRealTimers();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const load = async (extra: Record<string, unknown> = {}) => {
    await plugin?.close();
    plugin = await loadTestPlugin(greylist, { config: { ...store, delaySeconds: 300, ...extra }, dataDir });
    return plugin;
  };
  const attempt = async (client: string, from = 'alice@example.org', to = 'bob@example.com') => {
    const { verdicts, ledger } = await plugin!.runStage('rcpt', {
      session: { clientAddress: client },
      transaction: makeTransaction(Buffer.alloc(0), [to], from),
    });
    return { verdict: verdicts[0], line: ledger[0] };
  };

  it('answers 451 4.7.1 to a new triplet, again before the delay, and lets the retry through', async () => {
    await load();
    const first = await attempt('203.0.113.5');
    expect(first.verdict).toEqual({ action: 'tempfail', code: 451, enhanced: '4.7.1', text: 'Greylisted, please try again in 300 seconds' });
    expect(first.line).toMatchObject({ plugin: 'greylist', stage: 'rcpt', verdict: 'tempfail', details: { greylist: 'new', recipient: 'bob@example.com' } });
    vi.setSystemTime(T0 + 100_000);
    expect((await attempt('203.0.113.5')).verdict).toMatchObject({ action: 'tempfail', text: 'Greylisted, please try again in 200 seconds' });
    vi.setSystemTime(T0 + 301_000);
    // Another host of the same /24 (a sender's outbound pool) counts as the same client.
    const retry = await attempt('203.0.113.9');
    expect(retry.verdict).toBeUndefined();
    expect(retry.line).toMatchObject({ verdict: 'continue', details: { greylist: 'passed' } });
    vi.setSystemTime(T0 + 400_000);
    expect((await attempt('203.0.113.5')).line.details?.greylist).toBe('known');
  });

  it('keeps triplets apart by network, sender and recipient', async () => {
    await load();
    await attempt('203.0.113.5');
    vi.setSystemTime(T0 + 301_000);
    expect((await attempt('198.51.100.5')).line.details?.greylist).toBe('new');
    expect((await attempt('203.0.113.5', 'carol@example.org')).line.details?.greylist).toBe('new');
    expect((await attempt('203.0.113.5', 'alice@example.org', 'dave@example.com')).line.details?.greylist).toBe('new');
    expect((await attempt('203.0.113.5', 'ALICE@example.org', 'BOB@example.com')).line.details?.greylist).toBe('passed');
  });

  it('remembers triplets across a restart', async () => {
    await load();
    await attempt('203.0.113.5');
    await load();
    vi.setSystemTime(T0 + 301_000);
    expect((await attempt('203.0.113.5')).verdict).toBeUndefined();
  });

  it('skips allowed clients, allowed recipients and mail the evidence vouches for', async () => {
    await load({ allowRecipients: ['Postmaster@example.com'], skipBelowScore: -1 });
    expect((await attempt('127.0.0.1')).line).toMatchObject({ verdict: 'continue', reason: 'not greylisted: client 127.0.0.1 allowed' });
    expect((await attempt('203.0.113.5', 'a@example.org', 'postmaster@example.com')).verdict).toBeUndefined();
    const txn = makeTransaction(Buffer.alloc(0), ['bob@example.com'], 'alice@example.org');
    txn.findings.push({ plugin: 'dnsbl', finding: { score: -3 } });
    const { verdicts, ledger } = await plugin!.runStage('rcpt', { session: { clientAddress: '203.0.113.5' }, transaction: txn });
    expect(verdicts).toEqual([]);
    expect(ledger[0].reason).toBe('not greylisted: score -3 below -1');
  });
}

describe('greylist plugin, embedded SQLite store', () => {
  greylistFlow(() => ({ store: 'sqlite' }));
});

describe.skipIf(!process.env.HERMOD_TEST_REDIS_URL)('greylist plugin, Redis store', () => {
  greylistFlow(() => ({
    store: 'redis',
    redis: { url: process.env.HERMOD_TEST_REDIS_URL, keyPrefix: `hermod-test-${process.pid}-${Math.random().toString(36).slice(2)}:` },
  }));
});

describe('greylist plugin when its store is down', () => {
  const down = { store: 'redis', redis: { url: 'redis://127.0.0.1:1' } };

  it('tempfails with 451 4.3.0 by default', async () => {
    const plugin = await loadTestPlugin(greylist, { config: down });
    const { verdicts, ledger } = await plugin.runStage('rcpt', { session: { clientAddress: '203.0.113.5' } });
    await plugin.close();
    expect(verdicts).toEqual([{ action: 'tempfail', code: 451, enhanced: '4.3.0', text: 'Temporary processing failure, try again later' }]);
    expect(ledger[0].reason).toMatch(/^greylist failed: /);
  });

  it('lets mail through when failOpen', async () => {
    const plugin = await loadTestPlugin(greylist, { config: down, failOpen: true });
    const { verdicts, ledger } = await plugin.runStage('rcpt', { session: { clientAddress: '203.0.113.5' } });
    await plugin.close();
    expect(verdicts).toEqual([]);
    expect(ledger[0].verdict).toBe('error-ignored');
  });

  it('has a default for every key', () => {
    expect(greylistConfigSchema.parse({})).toMatchObject({ store: 'sqlite', delaySeconds: 300, allowClients: ['127.0.0.0/8', '::1/128'] });
  });
});
