import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.js';
import { startHermod, type Harness } from '../helpers/hermod-harness.js';
import { lmtpTransaction } from '../helpers/lmtp-session.js';
import { authFixture, dkimRecord, dkimSigned, generateSigningKey, type SigningKey } from '../helpers/mail-auth.js';
import { startTestDnsServer, type TestDnsServer } from '../helpers/test-dns-server.js';

let dns: TestDnsServer;
let key: SigningKey;
let hermod: Harness | undefined;

beforeAll(async () => {
  key = generateSigningKey(1024);
  dns = await startTestDnsServer({
    'example.org': { TXT: ['v=spf1 ip4:203.0.113.0/24 -all'] },
    '_dmarc.example.org': { TXT: ['v=DMARC1; p=reject'] },
    ...dkimRecord('example.org', 's1', key),
    // 198.51.100.66 and 203.0.113.66 are on the test blocklist.
    '66.100.51.198.bl.test': { A: ['127.0.0.2'] },
    '66.113.0.203.bl.test': { A: ['127.0.0.2'] },
  });
});
afterAll(async () => {
  await dns?.close();
});
afterEach(async () => {
  await hermod?.stop();
  hermod = undefined;
});

/** Hermod behind a trusted PROXY sender, with the auth/dnsbl/privacy chain on the test DNS server. */
async function start(scoring: Record<string, unknown> = {}): Promise<Harness> {
  const dnsConfig = { servers: [dns.address], timeoutMs: 1000, tries: 1 };
  const h = await startHermod(
    {
      proxy: { trusted: ['127.0.0.1/32'] },
      scoring,
      plugins: [
        { name: 'dnsbl', config: { zones: [{ zone: 'bl.test', weight: 6 }], dns: dnsConfig } },
        { name: 'parse' },
        { name: 'auth', config: { dns: dnsConfig } },
        // The arithmetic below counts the old Date as 1 (the default DATE_IN_PAST score is 0.5).
        { name: 'spam', config: { rules: { DATE_IN_PAST: 1 } } },
        { name: 'classify', config: { rules: [{ name: 'verified', if: { auth: { dmarc: 'pass' } }, tags: ['verified'] }] } },
        { name: 'privacy' },
      ],
    },
    [],
  );
  await h.server.services.store.addDomain('example.com');
  for (const address of ['bob@example.com', 'carol@example.com']) {
    await h.server.services.store.addMailbox({ address, aliases: [], quotaBytes: 0 });
  }
  return h;
}

const signed = () => dkimSigned(authFixture('personal.eml'), 'example.org', 's1', key);

describe('authentication end to end, behind HAProxy', () => {
  it('checks SPF against the PROXY client address, verifies DKIM and DMARC, and stores the results', async () => {
    hermod = await start();
    const result = await lmtpTransaction(hermod.lmtpPort, {
      client: '203.0.113.5',
      helo: 'mail.example.org',
      from: 'alice@example.org',
      to: ['bob@example.com'],
      message: await signed(),
    });
    expect(result.data.map((r) => r.code)).toEqual([250]);
    const { store } = hermod.server.services;
    const id = result.entryIds[0]!;
    const full = (await store.getFullMessage(id))!.toString();
    expect(full).toMatch(/\r\nReceived-SPF: pass .*client-ip=203\.0\.113\.5;/);
    expect(full).toMatch(/\r\nAuthentication-Results: localhost;\r\n dkim=pass header\.i=@example\.org/);
    expect(full).toMatch(/\r\n spf=pass .*smtp\.mailfrom=alice@example\.org smtp\.helo=mail\.example\.org;/);
    expect(full).toMatch(/\r\n dmarc=pass \(p=REJECT/);
    const entry = (await store.getEntry(id))!;
    expect(entry.tags).toEqual(expect.arrayContaining(['personal', 'verified']));
    const ledger = await store.getLedger(id);
    expect(ledger.map((l) => l.plugin)).toEqual(['dnsbl', 'parse', 'auth', 'spam', 'classify', 'privacy', 'scorer']);
    const auth = ledger.find((l) => l.plugin === 'auth')!;
    expect(auth).toMatchObject({ stage: 'data', score: -1.5, reason: 'spf=pass dkim=pass(example.org) dmarc=pass(p=reject) arc=none' });
    expect(auth.details?.auth).toMatchObject({ spf: { result: 'pass', domain: 'example.org' }, dmarc: { result: 'pass', policy: 'reject' } });
    const privacy = ledger.find((l) => l.plugin === 'privacy')!;
    expect(privacy.details?.privacy).toMatchObject({ index: 40, transport: 'plain', authenticity: { spf: 'pass', dkim: 'pass-aligned', dmarc: 'pass' } });
  });

});

describe('one verdict per recipient', () => {
  it('judges each copy by its mailbox thresholds; the ledger keeps every contribution and the thresholds used', async () => {
    hermod = await start({ mailboxes: { 'carol@example.com': { addHeader: 3, junk: 5 } } });
    // Listed (dnsbl +6), authenticated (auth −1.5), old Date (spam +1): 5.5.
    const result = await lmtpTransaction(hermod.lmtpPort, {
      client: '203.0.113.66',
      from: 'alice@example.org',
      to: ['bob@example.com', 'carol@example.com'],
      message: await signed(),
    });
    expect(result.data.map((r) => r.code)).toEqual([250, 250]);
    const { store } = hermod.server.services;
    const [bob, carol] = await Promise.all(result.entryIds.map((id) => store.getEntry(id!)));
    expect([bob!.folder, carol!.folder]).toEqual(['INBOX', 'Junk']);
    expect([bob!.spamScore, carol!.spamScore]).toEqual([5.5, 5.5]);
    const header = async (id: string) => /X-Spam-Status: ([^\r]*)/.exec((await store.getFullMessage(id))!.toString())![1];
    expect(await header(bob!.id)).toBe('Yes, score=5.50 required=5.00');
    expect(await header(carol!.id)).toBe('Yes, score=5.50 required=3.00');
    const bobScorer = (await store.getLedger(bob!.id)).at(-1)!;
    const carolScorer = (await store.getLedger(carol!.id)).at(-1)!;
    expect(bobScorer).toMatchObject({ plugin: 'scorer', score: 5.5, reason: 'flagged → INBOX; add 5 junk 8 reject 15' });
    expect(carolScorer).toMatchObject({ plugin: 'scorer', score: 5.5, reason: 'junk → Junk; add 3 junk 5 reject 15 (mailbox)' });
    expect(carolScorer.details).toMatchObject({
      recipient: 'carol@example.com',
      thresholds: { addHeader: 3, junk: 5, tempfail: null, reject: 15, junkFolder: 'Junk', source: 'mailbox' },
      contributions: [
        { plugin: 'dnsbl', score: 6 },
        { plugin: 'auth', score: -1.5 },
        { plugin: 'spam', score: 1 },
      ],
    });

    const cli = await runCli(['message', 'show', carol!.id, '--ledger'], { HERMOD_DATA_DIR: hermod.config.dataDir });
    expect(cli.code).toBe(0);
    const rows = cli.stdout.split('\n');
    expect(rows.find((r) => r.startsWith('dnsbl'))).toMatch(/^dnsbl\s+mail\s+continue\s+6(\.0+)?\s+203\.0\.113\.66 listed in bl\.test/);
    expect(rows.find((r) => r.startsWith('auth'))).toMatch(/^auth\s+data\s+continue\s+-1\.50?\s+spf=pass/);
    expect(rows.find((r) => r.startsWith('scorer'))).toMatch(/^scorer\s+message\s+continue\s+5\.50?\s+junk → Junk; add 3 junk 5 reject 15 \(mailbox\)/);
  });

  it('defers one copy in the tempfail band while another mailbox takes it into Junk', async () => {
    hermod = await start({ tempfail: 12, reject: 30, mailboxes: { 'carol@example.com': { tempfail: null } } });
    // Forged (body changed after signing) from a listed client outside the SPF range:
    // dnsbl 6 + SPF fail 2 + DKIM fail 1 + DMARC p=reject 8 + spam 1 = 18.
    const forged = (await signed()).replace('Nothing urgent', 'Wire the money today');
    const result = await lmtpTransaction(hermod.lmtpPort, {
      client: '198.51.100.66',
      from: 'alice@example.org',
      to: ['bob@example.com', 'carol@example.com'],
      message: forged,
    });
    expect(result.data.map((r) => r.text)).toEqual([
      '451 4.7.1 Message deferred as suspected spam, try again later',
      expect.stringMatching(/^250 2\.0\.0 Ok: delivered as /),
    ]);
    const carol = (await hermod.server.services.store.getEntry(result.entryIds[1]!))!;
    expect(carol).toMatchObject({ folder: 'Junk', spamScore: 18 });
    expect(carol.tags).toContain('spam');
    const scorers = (await hermod.server.services.store.getLedger(carol.id)).filter((l) => l.plugin === 'scorer');
    expect(scorers).toEqual([expect.objectContaining({ reason: 'junk → Junk; add 5 junk 8 reject 30 (mailbox)', details: expect.objectContaining({ recipient: 'carol@example.com' }) })]);
  });
});
