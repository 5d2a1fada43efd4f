import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PluginError } from '../../src/errors.js';
import type { PluginFinding, Transaction } from '../../src/pipeline/types.js';
import { SqliteMessageStore } from '../../src/store/sqlite/sqlite-message-store.js';
import { BAYES_GLOBAL_SCOPE, type BayesLabel, type Mailbox } from '../../src/store/types.js';
import { createHookContext, MAIL_FIXTURE_DIR, makeTransaction, runHook } from '../../test/helpers/plugin-context.js';
import parse from '../parse/index.js';
import { bandOf, scoreOf } from './classifier.js';
import bayes, { bayesConfigSchema, learnMessage, type BayesConfig, type BayesState } from './index.js';

const TRAINING_DIR = fileURLToPath(new URL('../../test/fixtures/bayes/', import.meta.url));
const training = readdirSync(TRAINING_DIR)
  .filter((n) => n.endsWith('.eml'))
  .sort()
  .map((name) => ({ name, raw: readFileSync(join(TRAINING_DIR, name)), label: (name.startsWith('spam') ? 'spam' : 'ham') as BayesLabel }));

/** The small training set needs a low floor; everything else is the default config. */
const BASE = { minTrained: 2 };

let store: SqliteMessageStore;
let alice: Mailbox;
let bob: Mailbox;

beforeEach(async () => {
  store = new SqliteMessageStore({ file: ':memory:' });
  await store.init();
  await store.addDomain('example.com');
  alice = await store.addMailbox({ address: 'alice@example.com', quotaBytes: 0 });
  bob = await store.addMailbox({ address: 'bob@example.com', quotaBytes: 0 });
});
afterEach(async () => {
  await store.close();
});

async function parsed(raw: Buffer, recipients: Mailbox[] = []): Promise<Transaction> {
  const txn = makeTransaction(raw, recipients.map((m) => m.address));
  txn.recipients = recipients.map((mailbox) => ({ address: mailbox.address, mailbox }));
  await runHook(parse, 'data', txn);
  return txn;
}

/** Teaches the store the training fixtures, globally or for a mailbox (learnGlobal off then). */
async function train(mailbox: Mailbox | null = null, flip = false): Promise<void> {
  const config = bayesConfigSchema.parse({ ...BASE, mailbox: { learnGlobal: false } });
  for (const t of training) {
    const txn = await parsed(t.raw);
    const label = flip ? (t.label === 'spam' ? 'ham' : 'spam') : t.label;
    await learnMessage(store, { parsed: txn.parsed!, raw: t.raw, mailboxId: mailbox?.id ?? null, label }, config);
  }
}

/** Runs the plugin's message hook with a store, as the registry would. */
async function classify(raw: Buffer, config: unknown = BASE, recipients: Mailbox[] = [bob]): Promise<PluginFinding> {
  const txn = await parsed(raw, recipients);
  const cfg = bayesConfigSchema.parse(config);
  const state = (await bayes.init!(cfg, { log: pino({ level: 'silent' }), hostname: 'mx.test', store })) as BayesState;
  const { ctx, findings } = createHookContext<BayesConfig, BayesState>({ stage: 'message', transaction: txn, config: cfg, state, plugin: 'bayes' });
  expect(await bayes.hooks.message!(ctx)).toBeUndefined();
  expect(findings).toHaveLength(1);
  return findings[0];
}

const mail = (name: string): Buffer => readFileSync(join(MAIL_FIXTURE_DIR, name));
const details = (f: PluginFinding) => f.details as Record<string, any>;

describe('bayes plugin on the fixture corpus', () => {
  it.each([
    ['07-heuristic-spam.eml', 'spam', 8],
    ['01-personal.eml', 'ham', -1],
    ['02-reply.eml', 'ham', -1],
  ])('%s → %s (score %d)', async (name, verdict, score) => {
    await train();
    const finding = await classify(mail(name));
    expect(details(finding).verdict).toBe(verdict);
    expect(finding.score).toBeCloseTo(score, 1);
    expect(finding.reason).toMatch(new RegExp(`^bayes ${verdict} p=\\d\\.\\d{3} BAYES_\\d+ \\(global, \\d+ tokens\\)$`));
    expect(details(finding)).toMatchObject({ statistics: 'global', trained: { spam: 4, ham: 4 } });
    expect(details(finding).tokensUsed).toBeGreaterThan(0);
    expect(details(finding).topTokens.length).toBeLessThanOrEqual(10);
  });

  it('lists the strongest tokens with their probabilities', async () => {
    await train();
    const top = details(await classify(mail('07-heuristic-spam.eml'))).topTokens as [string, number][];
    expect(top.map(([token]) => token)).toEqual(expect.arrayContaining(['income']));
    for (const [, p] of top) expect(p).toBeGreaterThan(0.5);
  });

  it('says nothing (score 0, untrained) before it has learned minTrained of each', async () => {
    const finding = await classify(mail('07-heuristic-spam.eml'));
    expect(finding).toMatchObject({ score: 0, details: { verdict: 'untrained', probability: null, tokens: null, tokensUsed: 0 } });
    expect(finding.reason).toBe('bayes untrained, contributes nothing (0 spam / 0 ham learned, need 2 each)');
  });

  it('is untrained by default until it has learned 200 spam and 200 ham', () => {
    expect(bayesConfigSchema.parse({}).minTrained).toBe(200);
  });

  it('scores the probability on the configured scale, unsure band included', async () => {
    await train();
    const scale = [[0, -5], [0.5, 0], [1, 12]];
    const spam = await classify(mail('07-heuristic-spam.eml'), { ...BASE, scale });
    const p = details(spam).probability as number;
    expect(spam.score).toBeCloseTo(p <= 0.5 ? -5 + 10 * p : 24 * (p - 0.5), 1);
    expect(details(spam).rule).toMatch(/^BAYES_\d+$/);
    const ham = await classify(mail('01-personal.eml'), { ...BASE, scale });
    expect(ham.score).toBeLessThan(0);
    // A message in the unsure band still contributes (what a verdict-only score never did).
    const unsure = await classify(mail('01-personal.eml'), { ...BASE, scale: [[0, 3], [1, 3]], unsureLow: 0, unsureHigh: 1 });
    expect(unsure).toMatchObject({ score: 3, details: { verdict: 'unsure' } });
  });

  it('skips a message the parse step did not parse', async () => {
    const txn = makeTransaction(mail('01-personal.eml'));
    const cfg = bayesConfigSchema.parse(BASE);
    const { ctx, findings } = createHookContext<BayesConfig, BayesState>({ stage: 'message', transaction: txn, config: cfg, state: { store } });
    await bayes.hooks.message!(ctx);
    expect(findings).toEqual([{ score: 0, reason: 'message not parsed; bayes skipped', details: { verdict: 'untrained' } }]);
  });
});

describe('per-mailbox statistics', () => {
  it('fallback: uses the mailbox once it has learned enough, else global', async () => {
    await train(); // global: the truth
    await train(bob, true); // bob's own statistics say the opposite
    const config = { ...BASE, mailbox: { minTrained: 4 } };
    expect(details(await classify(mail('07-heuristic-spam.eml'), config))).toMatchObject({ verdict: 'ham', statistics: 'mailbox' });
    const notEnough = { ...BASE, mailbox: { minTrained: 5 } };
    expect(details(await classify(mail('07-heuristic-spam.eml'), notEnough))).toMatchObject({ verdict: 'spam', statistics: 'global' });
  });

  it('merge adds the mailbox counts to the global ones; global ignores the mailbox', async () => {
    await train();
    await train(bob, true);
    const merged = details(await classify(mail('07-heuristic-spam.eml'), { ...BASE, mailbox: { mode: 'merge' } }));
    expect(merged).toMatchObject({ statistics: 'merged', trained: { spam: 8, ham: 8 } });
    const global = details(await classify(mail('07-heuristic-spam.eml'), { ...BASE, mailbox: { mode: 'global' } }));
    expect(global).toMatchObject({ statistics: 'global', verdict: 'spam' });
  });

  it('when recipients disagree, reports the global result and lists each mailbox', async () => {
    await train();
    await train(bob, true);
    const config = { ...BASE, mailbox: { minTrained: 4 } };
    const finding = await classify(mail('07-heuristic-spam.eml'), config, [alice, bob]);
    expect(finding.score).toBe(8);
    expect(details(finding).statistics).toBe('global');
    expect(details(finding).recipients).toMatchObject({
      'alice@example.com': { verdict: 'spam', statistics: 'global' },
      'bob@example.com': { verdict: 'ham', statistics: 'mailbox' },
    });
  });

  it('learns a mailbox correction in the mailbox and, by default, globally', async () => {
    const txn = await parsed(mail('07-heuristic-spam.eml'));
    const lesson = { parsed: txn.parsed!, raw: txn.raw!, mailboxId: bob.id, label: 'spam' as const };
    const results = await learnMessage(store, lesson, bayesConfigSchema.parse({}));
    expect(results.map((r) => r.scope)).toEqual([bob.id, BAYES_GLOBAL_SCOPE]);
    const own = await learnMessage(store, { ...lesson, mailboxId: alice.id }, bayesConfigSchema.parse({ mailbox: { learnGlobal: false } }));
    expect(own.map((r) => r.scope)).toEqual([alice.id]);
  });
});

describe('manifest', () => {
  it('needs the store at init', async () => {
    expect(() => bayes.init!(bayesConfigSchema.parse({}), { log: pino({ level: 'silent' }), hostname: 'mx.test' })).toThrow(PluginError);
  });

  it.each([
    [{ unsureLow: 0.9, unsureHigh: 0.2 }, 'unsureLow'],
    [{ s: 0 }, 's'],
    [{ x: 1 }, 'x'],
    [{ mailbox: { mode: 'team' } }, 'mailbox'],
    [{ tokenizer: { bigram: true } }, 'tokenizer'],
    [{ scale: [[0.5, 1], [0.2, 2]] }, 'scale'],
    [{ scale: [[0, 1]] }, 'scale'],
    [{ scores: { spam: 8 } }, undefined],
  ])('refuses the config %j (at %s)', (config, key) => {
    const result = bayes.configSchema.safeParse(config);
    expect(result.success).toBe(false);
    expect(result.error!.issues[0].path[0]).toBe(key);
  });
});

describe('graded score', () => {
  const config = bayesConfigSchema.parse({});

  it('grows with the probability over the whole range', () => {
    const probabilities = Array.from({ length: 101 }, (_, i) => i / 100);
    const scores = probabilities.map((p) => scoreOf(p, config));
    for (let i = 1; i < scores.length; i++) expect(scores[i]).toBeGreaterThanOrEqual(scores[i - 1]);
    expect(scores[0]).toBeLessThan(0);
    expect(scores[100]).toBeGreaterThan(scores[50]);
    expect(scores[45]).toBeGreaterThan(scores[35]);
  });

  it('interpolates between the points and holds the ends', () => {
    const scale = { scale: [[0.2, -2], [0.6, 2], [0.8, 6]] as [number, number][] };
    expect(scoreOf(0, scale)).toBe(-2);
    expect(scoreOf(0.4, scale)).toBe(0);
    expect(scoreOf(0.7, scale)).toBe(4);
    expect(scoreOf(1, scale)).toBe(6);
    expect(scoreOf(null, scale)).toBe(0);
  });

  it('names the band as SpamAssassin names its Bayes rules', () => {
    expect([0, 0.03, 0.5, 0.97, 0.995, 0.9999].map(bandOf)).toEqual(['BAYES_00', 'BAYES_05', 'BAYES_50', 'BAYES_95', 'BAYES_99', 'BAYES_999']);
  });
});
