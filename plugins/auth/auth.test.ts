import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { AuthSummary, SessionInfo, Transaction } from '../../src/pipeline/types.js';
import { createHookContext, makeTransaction } from '../../test/helpers/plugin-context.js';
import {
  authFixture,
  dkimRecord,
  dkimSigned,
  forwardThroughList,
  generateSigningKey,
  type SigningKey,
} from '../../test/helpers/mail-auth.js';
import { startTestDnsServer, tableResolver, type TestDnsServer, type TestRecords } from '../../test/helpers/test-dns-server.js';
import auth, { authConfigSchema, createAuthState, type AuthConfig } from './index.js';

let orgKey: SigningKey;
let espKey: SigningKey;
let listKey: SigningKey;
let records: Record<string, TestRecords>;

beforeAll(() => {
  orgKey = generateSigningKey();
  espKey = generateSigningKey();
  listKey = generateSigningKey();
  records = {
    'example.org': { TXT: ['v=spf1 ip4:203.0.113.0/24 -all'] },
    '_dmarc.example.org': { TXT: ['v=DMARC1; p=reject; rua=mailto:d@example.org'] },
    'mail.example.org': { A: ['203.0.113.5'], TXT: ['v=spf1 a -all'] },
    'example.net': { TXT: ['v=spf1 ip4:198.51.100.0/24 ~all'] },
    'shop.example': { TXT: ['v=spf1 include:esp.example.net -all'] },
    '_dmarc.shop.example': { TXT: ['v=DMARC1; p=quarantine'] },
    'esp.example.net': { TXT: ['v=spf1 ip4:192.0.2.0/24 -all'] },
    'list.example.net': { TXT: ['v=spf1 ip4:198.51.100.7 -all'] },
    ...dkimRecord('example.org', 's1', orgKey),
    ...dkimRecord('esp.example.net', 'mx', espKey),
    ...dkimRecord('list.example.net', 'arc', listKey),
  };
});

interface Envelope {
  ip: string;
  helo: string;
  sender: string;
}

const fromOrg: Envelope = { ip: '203.0.113.5', helo: 'mail.example.org', sender: 'alice@example.org' };
const fromList: Envelope = { ip: '198.51.100.7', helo: 'list.example.net', sender: 'dev-bounces@list.example.net' };

/** Runs the auth hook on a message as if it came from `env`, DNS served from the record table. */
async function check(raw: string, env: Envelope, config: unknown = {}, dns = records) {
  const parsed = authConfigSchema.parse(config);
  const state = createAuthState(parsed, { hostname: 'mx.test' }, tableResolver(dns));
  const txn = makeTransaction(Buffer.from(raw), ['bob@example.com'], env.sender);
  const { ctx, findings } = createHookContext<AuthConfig, typeof state>({ stage: 'data', transaction: txn, config: parsed, state, plugin: 'auth' });
  ctx.session.clientAddress = env.ip;
  ctx.session.heloName = env.helo;
  const verdict = await auth.hooks.data!(ctx);
  expect(verdict).toBeUndefined();
  expect(findings).toHaveLength(1);
  return { txn, finding: findings[0], rules: (findings[0].details?.rules as { name: string }[]).map((r) => r.name) };
}

const signedPersonal = () => dkimSigned(authFixture('personal.eml'), 'example.org', 's1', orgKey);
const listChange = (raw: string) => raw.replace('Subject: Minutes', 'Subject: [team] Minutes').replace(/Alice\r\n$/, 'Alice\r\n--\r\nteam list footer\r\n');

type Expect = { spf: string; dkim: string[]; dmarc: string; arc: string; rules: string[]; score: number };

const cases: [string, () => Promise<string>, Envelope, Expect, unknown?][] = [
  ['aligned DKIM and SPF pass', signedPersonal, fromOrg,
    { spf: 'pass', dkim: ['pass'], dmarc: 'pass', arc: 'none', rules: ['SPF_PASS', 'DKIM_PASS_ALIGNED', 'DMARC_PASS'], score: -1.5 }],
  ['SPF fails from a foreign address, aligned DKIM still passes DMARC', signedPersonal, { ...fromOrg, ip: '192.0.2.99' },
    { spf: 'fail', dkim: ['pass'], dmarc: 'pass', arc: 'none', rules: ['SPF_FAIL', 'DKIM_PASS_ALIGNED', 'DMARC_PASS'], score: 0.5 }],
  ['a body changed after signing fails DKIM and DMARC p=reject', async () => (await signedPersonal()).replace('Nothing urgent', 'Send money'),
    { ...fromOrg, ip: '192.0.2.99' },
    { spf: 'fail', dkim: ['neutral'], dmarc: 'fail', arc: 'none', rules: ['SPF_FAIL', 'DKIM_FAIL', 'DMARC_FAIL_REJECT'], score: 11 }],
  ['an ESP signature that does not align fails DMARC p=quarantine',
    () => dkimSigned(authFixture('esp-newsletter.eml'), 'esp.example.net', 'mx', espKey),
    { ip: '192.0.2.10', helo: 'out.esp.example.net', sender: 'bounce-77@esp.example.net' },
    { spf: 'pass', dkim: ['pass'], dmarc: 'fail', arc: 'none', rules: ['SPF_PASS', 'DMARC_FAIL_QUARANTINE'], score: 5 }],
  ['unsigned mail with SPF softfail and no DMARC record', async () => authFixture('unsigned.eml'),
    { ip: '192.0.2.50', helo: 'host.example.net', sender: 'carol@example.net' },
    { spf: 'softfail', dkim: [], dmarc: 'none', arc: 'none', rules: ['SPF_SOFTFAIL'], score: 1 }],
  ['a null sender is checked by its HELO name', signedPersonal, { ...fromOrg, sender: '' },
    { spf: 'pass', dkim: ['pass'], dmarc: 'pass', arc: 'none', rules: ['SPF_PASS', 'DKIM_PASS_ALIGNED', 'DMARC_PASS'], score: -1.5 }],
  ['two From addresses are a DMARC permerror', async () => authFixture('two-from.eml'), fromOrg,
    { spf: 'pass', dkim: [], dmarc: 'permerror', arc: 'none', rules: ['SPF_PASS'], score: 0 }],
  ['a list that changed the message breaks DKIM; its ARC chain passes but is not trusted',
    async () => forwardThroughList(await signedPersonal(), { ...fromOrg, resolver: tableResolver(records) },
      { domain: 'list.example.net', selector: 'arc', key: listKey }, listChange),
    fromList,
    { spf: 'pass', dkim: ['neutral'], dmarc: 'fail', arc: 'pass', rules: ['SPF_PASS', 'DKIM_FAIL', 'DMARC_FAIL_REJECT'], score: 9 }],
  ['the same list trusted as ARC sealer overrides the DMARC failure',
    async () => forwardThroughList(await signedPersonal(), { ...fromOrg, resolver: tableResolver(records) },
      { domain: 'list.example.net', selector: 'arc', key: listKey }, listChange),
    fromList,
    { spf: 'pass', dkim: ['neutral'], dmarc: 'fail', arc: 'pass', rules: ['SPF_PASS', 'DKIM_FAIL', 'DMARC_ARC_OVERRIDE'], score: 1 },
    { arc: { trustedSealers: ['List.Example.NET'] } }],
  ['a message changed after ARC sealing fails the chain',
    async () => (await forwardThroughList(await signedPersonal(), { ...fromOrg, resolver: tableResolver(records) },
      { domain: 'list.example.net', selector: 'arc', key: listKey }, listChange)).replace('team list footer', 'tampered'),
    fromList,
    { spf: 'pass', dkim: ['neutral'], dmarc: 'fail', arc: 'fail', rules: ['SPF_PASS', 'DKIM_FAIL', 'DMARC_FAIL_REJECT', 'ARC_FAIL'], score: 10 },
    { arc: { trustedSealers: ['list.example.net'] } }],
];

describe('auth plugin (mailauth) on signed messages', () => {
  it.each(cases)('%s', async (_name, make, env, expected, config) => {
    const { txn, finding, rules } = await check(await make(), env, config);
    const summary = txn.auth!;
    expect(summary.spf.result).toBe(expected.spf);
    expect(summary.dkim.map((d) => d.result)).toEqual(expected.dkim);
    expect(summary.dmarc.result).toBe(expected.dmarc);
    expect(summary.arc.result).toBe(expected.arc);
    expect(rules).toEqual(expected.rules);
    expect(finding.score).toBe(expected.score);
    expect(finding.details?.auth).toEqual(summary);
  });
});

describe('auth plugin results', () => {
  it('records alignment, policy and sealer in transaction.auth', async () => {
    const raw = await forwardThroughList(await signedPersonal(), { ...fromOrg, resolver: tableResolver(records) },
      { domain: 'list.example.net', selector: 'arc', key: listKey }, listChange);
    const { txn } = await check(raw, fromList);
    expect(txn.auth).toEqual<AuthSummary>({
      spf: { result: 'pass', domain: 'list.example.net' },
      dkim: [{ result: 'neutral', domain: 'example.org', selector: 's1', aligned: true }],
      dmarc: { result: 'fail', domain: 'example.org', policy: 'reject' },
      arc: { result: 'pass', sealer: 'list.example.net' },
      fromDomain: 'example.org',
    });
  });

  it('prepends Received-SPF and Authentication-Results with the hostname as authserv-id', async () => {
    const { txn, finding } = await check(await signedPersonal(), fromOrg);
    expect(txn.addedHeaders.map(([name]) => name)).toEqual(['Received-SPF', 'Authentication-Results']);
    const ar = txn.addedHeaders[1][1];
    expect(ar).toMatch(/^mx\.test;/);
    expect(ar).toMatch(/dkim=pass header\.i=@example\.org header\.s=s1/);
    expect(ar).toMatch(/spf=pass .*smtp\.mailfrom=alice@example\.org/);
    expect(ar).toMatch(/dmarc=pass \(p=REJECT/);
    expect(finding.reason).toBe('spf=pass dkim=pass(example.org) dmarc=pass(p=reject) arc=none');
  });

  it('takes authservId from config, can leave headers out, and applies score overrides', async () => {
    const raw = (await signedPersonal()).replace('Nothing urgent', 'Send money');
    const config = { authservId: 'auth.example.com', addHeaders: false, scores: { DMARC_FAIL_REJECT: 20, SPF_FAIL: 0 } };
    const { txn, finding } = await check(raw, { ...fromOrg, ip: '192.0.2.99' }, config);
    expect(txn.addedHeaders).toEqual([]);
    expect(finding.score).toBe(21);
    const quiet = await check(raw, { ...fromOrg, ip: '192.0.2.99' }, { authservId: 'auth.example.com' });
    expect(quiet.txn.addedHeaders[1][1]).toMatch(/^auth\.example\.com;/);
  });

  it('scores nothing on DNS failures (temperror proves nothing)', async () => {
    const broken = async (): Promise<never> => {
      throw Object.assign(new Error('queryTxt ESERVFAIL'), { code: 'ESERVFAIL' });
    };
    const parsed = authConfigSchema.parse({});
    const state = createAuthState(parsed, { hostname: 'mx.test' }, broken);
    const txn = makeTransaction(Buffer.from(await signedPersonal()), ['bob@example.com'], 'alice@example.org');
    const { ctx, findings } = createHookContext({ stage: 'data', transaction: txn, config: parsed, state });
    ctx.session.clientAddress = fromOrg.ip;
    await auth.hooks.data!(ctx);
    expect(txn.auth?.spf.result).toBe('temperror');
    expect(txn.auth?.dmarc.result).toBe('temperror');
    expect(findings[0].score).toBe(0);
  });

  it('reads client and HELO from the topmost Received header when the client is a configured relay', async () => {
    const received = 'Received: from mail.example.org (mail.example.org [203.0.113.5])\r\n\tby mx.example.com (Postfix) with ESMTPS id 4Xyz;\r\n\tMon, 10 Mar 2025 09:00:01 +0000\r\n';
    const raw = received + (await signedPersonal());
    const relayed = await check(raw, { ip: '127.0.0.1', helo: 'localhost', sender: 'alice@example.org' }, { relays: ['127.0.0.0/8'] });
    expect(relayed.txn.auth?.spf.result).toBe('pass');
    const direct = await check(raw, { ip: '127.0.0.1', helo: 'localhost', sender: 'alice@example.org' });
    expect(direct.txn.auth?.spf.result).toBe('fail');
  });

  it('unwraps IPv4-mapped IPv6 client addresses', async () => {
    const { txn } = await check(await signedPersonal(), { ...fromOrg, ip: '::ffff:203.0.113.5' });
    expect(txn.auth?.spf.result).toBe('pass');
  });
});

describe('auth plugin through the configured resolver (UDP test DNS server)', () => {
  let dns: TestDnsServer;
  beforeAll(async () => {
    dns = await startTestDnsServer(records);
  });
  afterAll(async () => {
    await dns.close();
  });

  it('asks the servers in dns.servers with node:dns and gets the same results', async () => {
    const config = authConfigSchema.parse({ dns: { servers: [dns.address], timeoutMs: 1000, tries: 1 } });
    const state = await auth.init!(config, { log: pino({ level: 'silent' }), hostname: 'mx.test' });
    const txn: Transaction = makeTransaction(Buffer.from(await signedPersonal()), ['bob@example.com'], 'alice@example.org');
    const { ctx, findings } = createHookContext({ stage: 'data', transaction: txn, config, state });
    Object.assign<SessionInfo, Partial<SessionInfo>>(ctx.session, { clientAddress: fromOrg.ip, heloName: fromOrg.helo });
    try {
      await auth.hooks.data!(ctx);
    } finally {
      await auth.close!(state);
    }
    expect(findings[0].reason).toBe('spf=pass dkim=pass(example.org) dmarc=pass(p=reject) arc=none');
    expect(dns.queries).toEqual(expect.arrayContaining(['example.org TXT', 's1._domainkey.example.org TXT', '_dmarc.example.org TXT']));
  });

  it('refuses a malformed server address at start-up', () => {
    const config = authConfigSchema.parse({ dns: { servers: ['not an address'] } });
    expect(() => createAuthState(config, { hostname: 'mx.test' })).toThrow(/plugins\.auth\.config\.dns\.servers/);
  });

  it('refuses a relay that is not a CIDR when the config is parsed', () => {
    const result = authConfigSchema.safeParse({ relays: ['10.0.0.0/40'] });
    expect(result.error?.issues[0]).toMatchObject({ path: ['relays', 0], message: "'10.0.0.0/40' is not an IP address or CIDR" });
  });
});
