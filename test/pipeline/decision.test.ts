import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { decide, describeDecision, thresholdsFor } from '../../src/pipeline/decision.js';
import type { PluginFinding } from '../../src/pipeline/types.js';
import { makeTransaction } from '../helpers/plugin-context.js';

const scoring = (extra: Record<string, unknown> = {}) => configSchema.parse({ scoring: extra }).scoring;

/** A transaction for bob and carol (alias carl@) with the given findings. */
function txn(findings: [string, PluginFinding][]) {
  const t = makeTransaction(Buffer.from('x'), ['bob@example.com', { address: 'carol@example.com', aliases: ['carl@example.com'] }]);
  t.findings = findings.map(([plugin, finding]) => ({ plugin, finding }));
  return t;
}

describe('the scorer', () => {
  it.each([
    [0, 'ham', 'INBOX'],
    [5, 'flagged', 'INBOX'],
    [8, 'junk', 'Junk'],
    [11, 'junk', 'Junk'],
    [15, 'reject', 'Junk'],
  ] as const)('score %d with the default thresholds → %s', (score, spam, folder) => {
    const d = decide(txn([['spam', { score }]]), scoring());
    expect(d).toMatchObject({ score, spam, folder, thresholds: { addHeader: 5, junk: 8, tempfail: null, reject: 15, source: 'default' } });
  });

  it('has a tempfail band below reject when configured', () => {
    const t = txn([['rspamd', { score: 12 }]]);
    expect(decide(t, scoring({ tempfail: 12 })).spam).toBe('tempfail');
    expect(decide(t, scoring({ tempfail: 12.5 })).spam).toBe('junk');
    expect(decide(txn([['rspamd', { score: 20 }]]), scoring({ tempfail: 12 })).spam).toBe('reject');
  });

  it('uses a mailbox override for that recipient only, matched by mailbox address in any case', () => {
    const config = scoring({ mailboxes: { 'Carol@Example.com': { junk: 3, addHeader: 2, junkFolder: 'Spam' } } });
    const t = txn([['spam', { score: 4 }], ['auth', { score: 0.5 }]]);
    const bob = decide(t, config, t.recipients[0]);
    const carol = decide(t, config, t.recipients[1]);
    expect(bob).toMatchObject({ spam: 'ham', folder: 'INBOX', thresholds: { source: 'default' } });
    expect(carol).toMatchObject({ spam: 'junk', folder: 'Spam', thresholds: { addHeader: 2, junk: 3, reject: 15, source: 'mailbox' } });
    expect(bob.headers).toEqual([['X-Spam-Score', '4.50'], ['X-Spam-Status', 'No, score=4.50 required=5.00']]);
    expect(carol.headers).toEqual([['X-Spam-Score', '4.50'], ['X-Spam-Status', 'Yes, score=4.50 required=2.00']]);
  });

  it('lets a mailbox switch the tempfail band on or off', () => {
    const config = scoring({ tempfail: 10, mailboxes: { 'bob@example.com': { tempfail: null }, 'carl@example.com': { tempfail: 6 } } });
    const t = txn([['spam', { score: 11 }]]);
    expect(thresholdsFor(config, t.recipients[0]).tempfail).toBeNull();
    expect(decide(t, config, t.recipients[0]).spam).toBe('junk');
    // carl@ is an alias of carol's mailbox: the RCPT address matches too.
    t.recipients[1].address = 'carl@example.com';
    expect(decide(t, config, t.recipients[1]).spam).toBe('tempfail');
  });

  it('records what each plugin contributed', () => {
    const t = txn([['auth', { score: 8 }], ['dnsbl', { score: 4 }], ['dnsbl', { score: -3 }], ['classify', { tags: ['list'] }], ['spam', { score: 0 }]]);
    expect(decide(t, scoring()).contributions).toEqual([{ plugin: 'auth', score: 8 }, { plugin: 'dnsbl', score: 1 }]);
  });

  it('describes the outcome and the thresholds in a line short enough for the ledger table', () => {
    const config = scoring({ tempfail: 12, mailboxes: { 'bob@example.com': { junk: 6 } } });
    const t = txn([['spam', { score: 7 }]]);
    expect(describeDecision(decide(t, config, t.recipients[0]))).toBe('junk → Junk; add 5 junk 6 tempfail 12 reject 15 (mailbox)');
    expect(describeDecision(decide(t, config, t.recipients[1]))).toBe('flagged → INBOX; add 5 junk 8 tempfail 12 reject 15');
    expect(describeDecision(decide(txn([['spam', { score: 1000 }]]), scoring()))).toBe('reject 550 5.7.1; add 5 junk 8 reject 15');
    expect(describeDecision(decide(t, config, t.recipients[0])).length).toBeLessThanOrEqual(70);
  });

  it('refuses unknown keys in a mailbox override', () => {
    expect(configSchema.safeParse({ scoring: { mailboxes: { 'a@b.example': { jnuk: 3 } } } }).success).toBe(false);
  });
});
