import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { PluginFinding } from '../../src/pipeline/types.js';
import { loadMailFixtures, makeTransaction, runHook } from '../../test/helpers/plugin-context.js';
import parse from '../parse/index.js';
import { DEFAULT_SCORES, RULE_NAMES } from './config.js';
import spam, { spamConfigSchema } from './index.js';
import { GTUBE } from './rules.js';

const fixtures = loadMailFixtures();

beforeAll(() => {
  // Only Date is faked: the date rules compare with "now", streams keep real timers.
  vi.useFakeTimers({ now: fixtures.now, toFake: ['Date'] });
});
afterAll(() => {
  vi.useRealTimers();
});

async function scan(raw: Buffer | string, config: unknown = {}) {
  const txn = makeTransaction(Buffer.isBuffer(raw) ? raw : Buffer.from(raw), [fixtures.recipient]);
  await runHook(parse, 'data', txn);
  const { verdict, findings } = await runHook(spam, 'message', txn, config);
  expect(verdict).toBeUndefined();
  expect(txn.addedHeaders).toEqual([]);
  expect(findings).toHaveLength(1);
  return findings[0];
}

const ruleNames = (f: PluginFinding): string[] =>
  ((f.details?.rules ?? []) as { name: string }[]).map((r) => r.name);

/** A well-formed message dated fixtures.now, with extra headers and a body. */
function message(headers: string, body = 'Hello there.\r\n'): string {
  const base =
    'From: Alice <alice@example.org>\r\nTo: bob@example.com\r\nSubject: hello\r\n' +
    `Date: ${fixtures.now.toUTCString()}\r\nMessage-ID: <t@example.org>\r\n`;
  return `${base}${headers}\r\n${body}`;
}

describe('spam plugin on the fixture corpus', () => {
  it.each(fixtures.messages)('%s', async (_name, raw, expected) => {
    const finding = await scan(raw);
    expect(ruleNames(finding).sort()).toEqual([...expected.spam.rules].sort());
    expect(finding.score).toBeGreaterThanOrEqual(expected.spam.minScore);
    expect(finding.score).toBeLessThanOrEqual(expected.spam.maxScore);
    expect(finding.tags).toEqual(expected.spam.tags);
  });
});

describe('spam rules', () => {
  it('reports a score of 0 with an empty rule list for clean mail', async () => {
    const finding = await scan(message(''));
    expect(finding).toEqual({ score: 0, reason: 'no rules matched', details: { rules: [] } });
  });

  it('finds GTUBE in a base64 body too', async () => {
    const body = Buffer.from(`test ${GTUBE} test`).toString('base64');
    const finding = await scan(message('Content-Transfer-Encoding: base64\r\n', `${body}\r\n`));
    expect(finding.score).toBe(1000);
    expect(finding.tags).toEqual(['gtube']);
    expect(finding.reason).toBe('GTUBE test string');
  });

  it('lists each rule with its score in details', async () => {
    const finding = await scan(message('').replace('Subject: hello', 'Subject: FREE STUFF NOW'));
    expect(finding.details?.rules).toEqual([{ name: 'SUBJECT_ALL_CAPS', score: DEFAULT_SCORES.SUBJECT_ALL_CAPS }]);
  });

  it('does not call a short capital subject shouting', async () => {
    const finding = await scan(message('').replace('Subject: hello', 'Subject: FYI: OK'));
    expect(ruleNames(finding)).toEqual([]);
  });

  it('flags a display name that carries another address, not the same one', async () => {
    const spoof = await scan(message('').replace('Alice <alice@example.org>', '"alice@bank.example" <x@evil.example>'));
    expect(ruleNames(spoof)).toEqual(['FROM_NAME_HAS_OTHER_ADDRESS']);
    const same = await scan(message('').replace('Alice <alice@example.org>', '"alice@example.org" <ALICE@example.org>'));
    expect(ruleNames(same)).toEqual([]);
  });

  it('uses the Date thresholds from config', async () => {
    const twoDaysAhead = new Date(fixtures.now.getTime() + 48 * 3_600_000).toUTCString();
    const raw = message('').replace(fixtures.now.toUTCString(), twoDaysAhead);
    expect(ruleNames(await scan(raw))).toEqual(['DATE_IN_FUTURE']);
    expect(ruleNames(await scan(raw, { futureHours: 72 }))).toEqual([]);
  });

  it('lists the evidence rules in the ledger with their scores', async () => {
    const html =
      '<html><body><a href="http://198.51.100.7/x">www.bank.example</a><img src="http://198.51.100.7/a.png"></body></html>\r\n';
    const raw = message('Content-Type: text/html\r\n', html).replace('<t@example.org>', '<002a38a20d2c$2885d7c4$1de48cb6@host>');
    const finding = await scan(raw);
    expect(finding.details?.rules).toEqual([
      { name: 'HTML_ONLY', score: DEFAULT_SCORES.HTML_ONLY },
      { name: 'LINK_IP_LITERAL', score: DEFAULT_SCORES.LINK_IP_LITERAL },
      { name: 'LINK_TEXT_OTHER_DOMAIN', score: 0 },
      { name: 'HTML_IMAGE_MOSTLY', score: DEFAULT_SCORES.HTML_IMAGE_MOSTLY },
      { name: 'MESSAGE_ID_FORGED_OUTLOOK', score: DEFAULT_SCORES.MESSAGE_ID_FORGED_OUTLOOK },
    ]);
  });

  it('measures the Date against the receipt time (newest Received), not against today', async () => {
    const received = 'Received: from a.example by mx.example.org; Mon, 9 Sep 2002 10:49:06 +0100\r\n';
    const old = (date: string) => `${received}${message('').replace(fixtures.now.toUTCString(), date)}`;
    expect(ruleNames(await scan(old('Mon, 9 Sep 2002 09:40:00 +0100')))).toEqual([]);
    expect(ruleNames(await scan(old('Mon, 9 Sep 2002 15:00:00 +0100')))).toEqual(['DATE_IN_FUTURE']);
    expect(ruleNames(await scan(old('Mon, 1 Jul 2002 10:00:00 +0100')))).toEqual(['DATE_IN_PAST']);
  });

  it('matches phrases as whole words, case-insensitively, and caps their count', async () => {
    const clean = await scan(message('', 'Please contact nowhere.\r\n'));
    expect(ruleNames(clean)).toEqual([]);
    const many = await scan(message('', 'ACT NOW! 100% free, risk-free, no credit check.\r\n'));
    expect(many.details?.phrases).toEqual(['act now', '100% free', 'risk-free', 'no credit check']);
    expect(many.details?.rules).toEqual([{ name: 'SPAM_PHRASE', score: 3 }]);
  });

  it('adds extraPhrases and can drop the built-in list', async () => {
    const raw = message('', 'Buy cheap watches and act now.\r\n');
    const finding = await scan(raw, { extraPhrases: ['cheap  watches'], builtinPhrases: false });
    expect(finding.details?.phrases).toEqual(['cheap  watches']);
    expect(finding.score).toBe(1);
  });

  it('applies score overrides and disabled rules', async () => {
    const raw = message('').replace('Message-ID: <t@example.org>\r\n', '');
    expect((await scan(raw)).score).toBe(DEFAULT_SCORES.MISSING_MESSAGE_ID);
    expect((await scan(raw, { rules: { MISSING_MESSAGE_ID: 0.25 } })).score).toBe(0.25);
    expect(ruleNames(await scan(raw, { disabled: ['MISSING_MESSAGE_ID'] }))).toEqual([]);
  });

  it('counts a multipart message without a text/plain part as HTML only', async () => {
    const body =
      '--b\r\nContent-Type: text/html\r\n\r\n<p>hi there</p>\r\n--b\r\n' +
      'Content-Type: image/png\r\nContent-Disposition: attachment; filename="a.png"\r\n\r\nxx\r\n--b--\r\n';
    const finding = await scan(message('Content-Type: multipart/mixed; boundary="b"\r\n', body));
    expect(ruleNames(finding)).toEqual(['HTML_ONLY']);
  });

  it('skips with score 0 when the message was not parsed', async () => {
    const txn = makeTransaction(Buffer.from(message('')));
    const { findings } = await runHook(spam, 'message', txn);
    expect(findings[0]).toMatchObject({ score: 0, details: { rules: [] } });
  });
});

describe('spam config', () => {
  it('has a default for every key', () => {
    const config = spamConfigSchema.parse({});
    expect(config.rules).toEqual({});
    expect(config.disabled).toEqual([]);
    expect(config.extraPhrases).toEqual([]);
  });

  it('refuses unknown rule names in overrides and in disabled', () => {
    expect(() => spamConfigSchema.parse({ rules: { NO_SUCH_RULE: 1 } })).toThrow();
    expect(() => spamConfigSchema.parse({ disabled: ['NO_SUCH_RULE'] })).toThrow();
  });

  it('knows a default score for every rule', () => {
    expect(Object.keys(DEFAULT_SCORES).sort()).toEqual([...RULE_NAMES].sort());
  });
});
