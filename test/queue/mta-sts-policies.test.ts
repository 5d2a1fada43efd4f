import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { StsPolicyDocument } from '../../src/queue/delivery/mta-sts-fetch.js';
import { MtaStsPolicies, mxMatches } from '../../src/queue/delivery/mta-sts-policies.js';

/** Unit tests of the cache rules, with the clock, the TXT answer and the fetch in the test's hands. */
function harness(document: StsPolicyDocument, options: { maxAgeCapSeconds?: number; refreshAfterSeconds?: number } = {}) {
  const state = { now: 1_000_000, id: 'one', fetches: 0, fetchFails: false, txtFails: false };
  const policies = new MtaStsPolicies({
    lookup: async (name: string) => {
      if (state.txtFails) throw Object.assign(new Error('timeout'), { code: 'ETIMEOUT' });
      if (name !== '_mta-sts.example.test') throw Object.assign(new Error('nx'), { code: 'ENOTFOUND' });
      return [[`v=STSv1; id=${state.id}`]];
    },
    fetch: async () => {
      state.fetches += 1;
      if (state.fetchFails) throw new Error('unreachable');
      return document;
    },
    port: 443,
    timeoutMs: 1000,
    maxBytes: 65536,
    maxAgeCapSeconds: options.maxAgeCapSeconds ?? 31_557_600,
    refreshAfterSeconds: options.refreshAfterSeconds ?? 86_400,
    cacheEntries: 100,
    log: pino({ level: 'silent' }),
    now: () => state.now,
  });
  return { state, policies };
}

const enforce: StsPolicyDocument = { mode: 'enforce', mx: ['mx.example.test'], maxAge: 604_800 };

describe('MTA-STS policy cache', () => {
  it('caps max_age: past the cap the policy expires, and with the host unreachable none applies', async () => {
    const { state, policies } = harness(enforce, { maxAgeCapSeconds: 3600, refreshAfterSeconds: 86_400 });
    const first = await policies.policyFor('example.test');
    expect(first).toMatchObject({ mode: 'enforce', id: 'one', expiresAt: state.now + 3_600_000 });
    state.now += 3_599_000;
    state.fetchFails = true;
    expect(await policies.policyFor('example.test')).toMatchObject({ mode: 'enforce' });
    expect(state.fetches).toBe(1);
    state.now += 2000;
    expect(await policies.policyFor('example.test')).toBeNull();
    expect(state.fetches).toBe(2);
  });

  it('a TXT lookup failure keeps the cached policy', async () => {
    const { state, policies } = harness(enforce);
    await policies.policyFor('example.test');
    state.txtFails = true;
    expect(await policies.policyFor('example.test')).toMatchObject({ mode: 'enforce', id: 'one' });
  });

  it('refreshes a policy older than refreshAfterSeconds, keeping it when the refresh fails', async () => {
    const { state, policies } = harness(enforce, { refreshAfterSeconds: 3600 });
    await policies.policyFor('example.test');
    state.now += 3_601_000;
    state.fetchFails = true;
    expect(await policies.policyFor('example.test')).toMatchObject({ mode: 'enforce' });
    expect(state.fetches).toBe(2);
    // The failed refresh is not retried for every message.
    expect(await policies.policyFor('example.test')).toMatchObject({ mode: 'enforce' });
    expect(state.fetches).toBe(2);
  });

  it('mode none counts as no policy', async () => {
    const { policies } = harness({ mode: 'none', mx: [], maxAge: 86400 });
    expect(await policies.policyFor('example.test')).toBeNull();
  });
});

describe('MX patterns (RFC 8461 §4.1)', () => {
  it.each([
    ['mx.example.test', ['mx.example.test'], true],
    ['MX.Example.Test.', ['mx.example.test'], true],
    ['mx1.example.test', ['*.example.test'], true],
    ['a.b.example.test', ['*.example.test'], false],
    ['example.test', ['*.example.test'], false],
    ['mx.example.test.evil', ['mx.example.test'], false],
    ['evilexample.test', ['*.example.test'], false],
  ])('%s against %j → %s', (host, patterns, expected) => {
    expect(mxMatches(host, patterns)).toBe(expected);
  });
});
