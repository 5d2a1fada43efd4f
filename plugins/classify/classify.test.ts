import { describe, expect, it } from 'vitest';
import type { AuthSummary, PluginFinding } from '../../src/pipeline/types.js';
import { loadMailFixtures, makeTransaction, runHook } from '../../test/helpers/plugin-context.js';
import parse from '../parse/index.js';
import { compileRegex } from './conditions.js';
import classify, { classifyConfigSchema } from './index.js';

const fixtures = loadMailFixtures();

async function run(raw: Buffer | string, config: unknown = {}): Promise<PluginFinding> {
  const txn = makeTransaction(Buffer.isBuffer(raw) ? raw : Buffer.from(raw), [fixtures.recipient]);
  await runHook(parse, 'data', txn);
  const { verdict, findings } = await runHook(classify, 'message', txn, config);
  expect(verdict).toBeUndefined();
  expect(findings).toHaveLength(1);
  return findings[0];
}

/** A message to bob with extra headers. */
function message(headers = '', to = 'Bob <bob@example.com>'): string {
  return (
    `From: Alice <alice@example.org>\r\nTo: ${to}\r\nSubject: Weekly sync notes\r\n` +
    `Date: Mon, 10 Mar 2025 09:00:00 +0000\r\nMessage-ID: <c@example.org>\r\n${headers}\r\nbody\r\n`
  );
}

const matched = (f: PluginFinding): unknown => f.details?.matched;

describe('classify plugin on the fixture corpus', () => {
  it.each(fixtures.messages)('%s', async (_name, raw, expected) => {
    const finding = await run(raw);
    expect(finding.tags).toEqual(expected.classify.tags);
    expect(finding.importance).toBe(expected.classify.importance);
    expect(matched(finding)).toEqual(expected.classify.matched);
    expect(finding.folder).toBe(expected.classify.folder);
  });
});

describe('built-in rules', () => {
  it('does not count Auto-Submitted: no as automated', async () => {
    const finding = await run(message('Auto-Submitted: no (manual)\r\n'));
    expect(matched(finding)).toEqual(['personal']);
  });

  it('treats Precedence: junk as bulk and gives no personal tag', async () => {
    const finding = await run(message('Precedence: junk\r\n'));
    expect(finding).toMatchObject({ tags: ['bulk'], importance: -4, details: { matched: ['bulk'] } });
  });

  it('sums list and bulk for a list with an unsubscribe link', async () => {
    const finding = await run(message('List-Id: <dev.example.net>\r\nList-Unsubscribe: <mailto:u@example.net>\r\n'));
    expect(finding).toMatchObject({ tags: ['list', 'bulk'], importance: -6 });
  });

  it('is not personal when the mailbox is only in Cc', async () => {
    const raw = message('Cc: bob@example.com\r\n', 'carol@example.net');
    expect(matched(await run(raw))).toEqual([]);
  });

  it('raises importance for Importance: high alone', async () => {
    const finding = await run(message('Importance: High\r\n'));
    expect(finding).toMatchObject({ tags: ['personal'], importance: 5 });
  });

  it('can be turned off', async () => {
    const finding = await run(message('List-Id: <dev.example.net>\r\n'), { builtins: false });
    expect(finding).toEqual({ tags: [], importance: 0, reason: 'no rule matched', details: { matched: [] } });
  });
});

describe('operator rules', () => {
  const rules = [
    { name: 'github', if: { header: 'x-github-reason', exists: true }, tags: ['github'], folder: 'GitHub' },
    { name: 'boss', if: { from: '^Alice\\b' }, importance: 4, tags: ['boss'] },
    {
      name: 'invoices',
      all: [{ subject: 'invoice|receipt' }, { not: { header: 'list-id' } }],
      folder: 'Finance',
    },
    {
      name: 'release-list',
      any: [{ header: 'list-id', matches: 'releases\\.example' }, { header: 'x-mailer', equals: 'RELBOT' }],
      folder: 'Releases',
      importance: -1,
    },
  ];

  it('run after the built-ins, add tags and importance, last folder wins', async () => {
    const raw = message('X-GitHub-Reason: mention\r\nX-Mailer: relbot\r\n');
    const finding = await run(raw, { rules });
    expect(matched(finding)).toEqual(['personal', 'github', 'boss', 'release-list']);
    expect(finding).toMatchObject({ tags: ['personal', 'github', 'boss'], folder: 'Releases', importance: 5 });
  });

  it('use the decoded subject and combine with all/not', async () => {
    const raw = message().replace('Weekly sync notes', '=?UTF-8?Q?Your_INVOICE_=E2=84=96_7?=');
    expect(matched(await run(raw, { rules }))).toEqual(['personal', 'boss', 'invoices']);
    const listed = message('List-Id: <x.example>\r\n').replace('Weekly sync notes', 'Invoice 7');
    expect(matched(await run(listed, { rules }))).toEqual(['list', 'boss']);
  });

  it('support exists: false and recipientIn', async () => {
    const finding = await run(message(), {
      builtins: false,
      rules: [
        { name: 'no-ua', if: { header: 'user-agent', exists: false }, tags: ['no-ua'] },
        { name: 'to-me', if: { recipientIn: 'to-or-cc' }, tags: ['to-me'] },
      ],
    });
    expect(finding.tags).toEqual(['no-ua', 'to-me']);
  });

  it('clamp the summed importance to -10..10', async () => {
    const high = await run(message('X-Priority: 1\r\n'), {
      rules: [{ name: 'vip', if: { from: 'alice' }, importance: 10 }],
    });
    expect(high.importance).toBe(10);
    const low = await run(message('Precedence: bulk\r\nList-Id: <l.example>\r\n'), {
      rules: [{ name: 'noise', if: { header: 'list-id' }, importance: -9 }],
    });
    expect(low.importance).toBe(-10);
  });
});

describe('classify config', () => {
  it('has a default for every key', () => {
    expect(classifyConfigSchema.parse({})).toEqual({ builtins: true, rules: [] });
  });

  it('fails on a regex that does not compile and names the rule', () => {
    const result = classifyConfigSchema.safeParse({
      rules: [{ name: 'broken-one', any: [{ header: 'x-a' }, { not: { subject: '([a-z' } }] }],
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0].message).toMatch(/classify rule "broken-one": bad regex \/\(\[a-z\//);
  });

  // Patterns run on a linear-time engine: what only a backtracking engine can run is refused at
  // config check, naming the rule, instead of stalling delivery on a crafted message.
  it.each([
    ['a backreference', '(a)\\1'],
    ['a lookahead', 'invoice(?=s)'],
  ])('refuses %s at config check', (_what, source) => {
    const result = classifyConfigSchema.safeParse({ rules: [{ name: 'slow', if: { subject: source } }] });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0].message).toMatch(/classify rule "slow": bad regex/);
  });

  it('matches a catastrophic-backtracking pattern against a hostile subject', () => {
    const [rule] = classifyConfigSchema.parse({ rules: [{ name: 'nested', if: { subject: '^(a+)+$' } }] }).rules;
    const pattern = compileRegex((rule.if as { subject: string }).subject);
    // 100,000 'a' then 'b': exponential on a backtracking engine, one pass on RE2.
    expect(pattern.test('a'.repeat(100_000) + 'b')).toBe(false);
    expect(pattern.test('A'.repeat(100_000))).toBe(true);
  });

  it('needs exactly one of if, all, any', () => {
    const none = classifyConfigSchema.safeParse({ rules: [{ name: 'r', tags: ['x'] }] });
    expect(none.error?.issues[0].message).toMatch(/classify rule "r": give exactly one/);
    const both = classifyConfigSchema.safeParse({
      rules: [{ name: 'r', if: { header: 'a' }, all: [{ header: 'b' }] }],
    });
    expect(both.success).toBe(false);
  });

  it('refuses unknown condition keys, duplicate names and out-of-range importance', () => {
    expect(classifyConfigSchema.safeParse({ rules: [{ name: 'r', if: { hedaer: 'a' } }] }).success).toBe(false);
    const dup = classifyConfigSchema.safeParse({
      rules: [
        { name: 'r', if: { header: 'a' } },
        { name: 'r', if: { header: 'b' } },
      ],
    });
    expect(dup.error?.issues[0].message).toBe('classify rule "r" is defined twice');
    expect(classifyConfigSchema.safeParse({ rules: [{ name: 'r', if: { header: 'a' }, importance: 11 }] }).success).toBe(false);
  });
});

describe('classify without a parsed message', () => {
  it('reports that it did not classify', async () => {
    const txn = makeTransaction(Buffer.from(message()));
    const { findings } = await runHook(classify, 'message', txn);
    expect(findings[0]).toMatchObject({ tags: [], importance: 0, details: { matched: [] } });
  });
});

describe('rules on the envelope, the content and authentication results', () => {
  const signedAndAligned: AuthSummary = {
    spf: { result: 'pass', domain: 'example.org' },
    dkim: [{ result: 'pass', domain: 'example.org', selector: 's1', aligned: true }],
    dmarc: { result: 'pass', domain: 'example.org', policy: 'reject' },
    arc: { result: 'none' },
    fromDomain: 'example.org',
  };
  const forged: AuthSummary = {
    ...signedAndAligned,
    spf: { result: 'fail', domain: 'example.org' },
    dkim: [{ result: 'fail', domain: 'example.org', selector: 's1', aligned: true }, { result: 'pass', domain: 'esp.example', selector: 'x', aligned: false }],
    dmarc: { result: 'fail', domain: 'example.org', policy: 'reject' },
  };
  const rules = [
    { name: 'verified-alice', all: [{ from: 'alice@example\\.org' }, { auth: { dmarc: 'pass', dkimAligned: true } }], tags: ['verified'], importance: 2 },
    { name: 'spoofed', if: { auth: { dmarc: 'fail', spf: ['fail', 'softfail'] } }, tags: ['suspicious'], folder: 'Suspicious' },
    { name: 'unauthenticated', if: { auth: { spf: 'none', dkim: 'none', dmarc: 'none' } }, tags: ['unauthenticated'] },
    { name: 'bounces-of-lists', if: { sender: '-bounces@' }, tags: ['via-list'] },
    { name: 'agenda', if: { body: '\\bagenda\\b' }, tags: ['meeting'] },
  ];

  async function classifyWith(auth: AuthSummary | undefined, mailFrom = 'alice@example.org', body = 'body') {
    const raw = message().replace(/body\r\n$/, `${body}\r\n`);
    const txn = makeTransaction(Buffer.from(raw), [fixtures.recipient], mailFrom);
    await runHook(parse, 'data', txn);
    txn.auth = auth;
    const { findings } = await runHook(classify, 'message', txn, { builtins: false, rules });
    return findings[0];
  }

  it.each([
    ['aligned DKIM and DMARC pass', signedAndAligned, 'alice@example.org', 'hi', ['verified-alice']],
    ['a DMARC failure with SPF fail', forged, 'alice@example.org', 'hi', ['spoofed']],
    ['no auth plugin: every result is none', undefined, 'alice@example.org', 'hi', ['unauthenticated']],
    ['the envelope sender', undefined, 'dev-bounces@lists.example.net', 'hi', ['unauthenticated', 'bounces-of-lists']],
    ['the body text', signedAndAligned, 'alice@example.org', 'The agenda for Thursday', ['verified-alice', 'agenda']],
  ])('%s', async (_name, auth, mailFrom, body, expected) => {
    expect(matched(await classifyWith(auth, mailFrom, body))).toEqual(expected);
  });

  it('takes the best DKIM result of several signatures', async () => {
    // forged has a failing aligned signature and a passing third-party one: dkim is pass, not aligned.
    const txn = makeTransaction(Buffer.from(message()), [fixtures.recipient]);
    await runHook(parse, 'data', txn);
    txn.auth = forged;
    const config = {
      builtins: false,
      rules: [
        { name: 'dkim-pass', if: { auth: { dkim: 'pass' } } },
        { name: 'aligned', if: { auth: { dkimAligned: true } } },
      ],
    };
    expect(matched((await runHook(classify, 'message', txn, config)).findings[0])).toEqual(['dkim-pass']);
  });

  it('refuses an empty auth condition and unknown result words', () => {
    expect(classifyConfigSchema.safeParse({ rules: [{ name: 'r', if: { auth: {} } }] }).success).toBe(false);
    expect(classifyConfigSchema.safeParse({ rules: [{ name: 'r', if: { auth: { spf: 'passed' } } }] }).success).toBe(false);
    expect(classifyConfigSchema.safeParse({ rules: [{ name: 'r', if: { sender: '([' } }] }).error?.issues[0].message).toMatch(/bad regex/);
  });

  it('tags mail from no-reply mailboxes as notification', async () => {
    const finding = await run(message().replace('Alice <alice@example.org>', 'GitHub <noreply@github.example>'));
    expect(finding).toMatchObject({ tags: ['notification'], importance: -3 });
  });
});
