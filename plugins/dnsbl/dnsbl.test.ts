import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { PluginFinding } from '../../src/pipeline/types.js';
import { createHookContext, makeTransaction } from '../../test/helpers/plugin-context.js';
import { startTestDnsServer, type TestDnsServer } from '../../test/helpers/test-dns-server.js';
import dnsbl, { dnsblConfigSchema, type DnsblConfig, type DnsblState } from './index.js';
import { queryName } from './lookup.js';

let dns: TestDnsServer;

beforeAll(async () => {
  dns = await startTestDnsServer({
    // 203.0.113.66 is on the blocklist with two codes; 198.51.100.20 is on the allowlist.
    '66.113.0.203.bl.test': { A: ['127.0.0.2', '127.0.0.4'] },
    '66.113.0.203.combined.test': { A: ['127.0.0.10'] },
    '20.100.51.198.wl.test': { A: ['127.0.10.3'] },
    '77.113.0.203.bl.test': { A: ['127.255.255.254'] },
    '88.113.0.203.bl.test': { A: ['10.0.0.1'] },
    '8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.test': { A: ['127.0.0.2'] },
  });
  dns.servfail.add('99.113.0.203.bl.test');
});
afterAll(async () => {
  await dns.close();
});

const zones = [
  { zone: 'bl.test', weight: 4 },
  { zone: 'combined.test', weight: 1, answers: { '127.0.0.2': 5, '127.0.0.10': 0.5 } },
  { zone: 'wl.test', weight: -3 },
];

/** Runs the mail hook for a client address through the real resolver pointed at the test server. */
async function check(address: string, config: Record<string, unknown> = {}): Promise<{ finding?: PluginFinding; queries: string[] }> {
  const parsed = dnsblConfigSchema.parse({ zones, dns: { servers: [dns.address], timeoutMs: 500, tries: 1 }, ...config });
  const state = (await dnsbl.init!(parsed, { log: pino({ level: 'silent' }), hostname: 'mx.test' })) as DnsblState;
  const before = dns.queries.length;
  try {
    const { ctx, findings } = createHookContext<DnsblConfig, DnsblState>({
      stage: 'mail',
      transaction: makeTransaction(Buffer.alloc(0)),
      config: parsed,
      state,
    });
    ctx.session.clientAddress = address;
    expect(await dnsbl.hooks.mail!(ctx)).toBeUndefined();
    return { finding: findings[0], queries: dns.queries.slice(before) };
  } finally {
    await dnsbl.close!(state);
  }
}

describe('dnsbl plugin against a local DNS server', () => {
  it.each([
    ['listed on the blocklist and with a weighted code elsewhere', '203.0.113.66', 4.5, '203.0.113.66 listed in bl.test (127.0.0.2), combined.test (127.0.0.10)'],
    ['listed on the allowlist: a negative score', '198.51.100.20', -3, '198.51.100.20 listed in wl.test (127.0.10.3)'],
    ['not listed anywhere', '203.0.113.1', 0, '203.0.113.1 not listed'],
    ['a "query refused" answer is no listing but a failed lookup', '203.0.113.77', 0, '203.0.113.77 not listed; lookup failed: bl.test'],
    ['an answer outside 127/8 is ignored', '203.0.113.88', 0, '203.0.113.88 not listed'],
    ['IPv6 clients are looked up by reversed nibbles', '2001:db8::8', 4, '2001:db8::8 listed in bl.test (127.0.0.2)'],
    ['an IPv4-mapped address is looked up as IPv4', '::ffff:203.0.113.66', 4.5, '::ffff:203.0.113.66 listed in bl.test (127.0.0.2), combined.test (127.0.0.10)'],
  ])('%s', async (_name, address, score, reason) => {
    const { finding } = await check(address);
    expect(finding?.score).toBe(score);
    expect(finding?.reason).toBe(reason);
  });

  it('records every listing with its weight in the ledger details', async () => {
    const { finding } = await check('203.0.113.66');
    expect(finding?.details).toEqual({
      dnsbl: [
        { zone: 'bl.test', answer: '127.0.0.2', weight: 4 },
        { zone: 'combined.test', answer: '127.0.0.10', weight: 0.5 },
      ],
    });
  });

  it('records a failing list and scores nothing for it', async () => {
    const { finding } = await check('203.0.113.99');
    expect(finding?.score).toBe(0);
    expect(finding?.reason).toBe('203.0.113.99 not listed; lookup failed: bl.test');
    expect(finding?.details?.dnsblErrors).toEqual([{ zone: 'bl.test', error: 'ESERVFAIL' }]);
  });

  it('does not look up loopback and private clients', async () => {
    const { finding, queries } = await check('127.0.0.1');
    expect(queries).toEqual([]);
    expect(finding).toMatchObject({ score: 0, reason: '127.0.0.1 not looked up (skipClients)' });
    const lan = await check('192.168.1.20');
    expect(lan.queries).toEqual([]);
  });

  it('reuses a client answer for the next transaction', async () => {
    const parsed = dnsblConfigSchema.parse({ zones, dns: { servers: [dns.address], timeoutMs: 500, tries: 1 } });
    const state = (await dnsbl.init!(parsed, { log: pino({ level: 'silent' }), hostname: 'mx.test' })) as DnsblState;
    const before = dns.queries.length;
    for (let i = 0; i < 3; i++) {
      const { ctx } = createHookContext<DnsblConfig, DnsblState>({ stage: 'mail', config: parsed, state });
      ctx.session.clientAddress = '203.0.113.66';
      await dnsbl.hooks.mail!(ctx);
    }
    expect(dns.queries.length - before).toBe(zones.length);
    await dnsbl.close!(state);
  });

  it('does nothing without zones', async () => {
    const { finding, queries } = await check('203.0.113.66', { zones: [] });
    expect(finding).toBeUndefined();
    expect(queries).toEqual([]);
  });
});

describe('dnsbl config and query names', () => {
  it('builds RFC 5782 query names', () => {
    expect(queryName('192.0.2.1', 'bl.test')).toBe('1.2.0.192.bl.test');
    expect(queryName('2001:db8::1', 'bl.test')).toBe(`1.${'0.'.repeat(23)}8.b.d.0.1.0.0.2.bl.test`);
  });

  it('refuses a bad zone or answer address and names the key', () => {
    const zone = dnsblConfigSchema.safeParse({ zones: [{ zone: 'not a zone', weight: 1 }] });
    expect(zone.error?.issues[0].path).toEqual(['zones', 0, 'zone']);
    const answer = dnsblConfigSchema.safeParse({ zones: [{ zone: 'bl.test', weight: 1, answers: { '10.0.0.1': 2 } }] });
    expect(answer.error?.issues[0].path).toEqual(['zones', 0, 'answers', '10.0.0.1']);
    expect(dnsblConfigSchema.parse({})).toMatchObject({ zones: [], cacheSeconds: 300, dns: { servers: [] } });
  });
});
