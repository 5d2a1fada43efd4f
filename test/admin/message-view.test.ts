import { describe, expect, it } from 'vitest';
import { showMessage } from '../../src/admin/messages.js';
import type { LedgerLine, MailboxEntry } from '../../src/store/types.js';

const RAW = Buffer.from(
  [
    'Authentication-Results: mx.hermod.test;',
    '\tspf=pass smtp.mailfrom=bank.example',
    'Authentication-Results: relay.example.net; dkim=fail',
    'Subject: Your account',
    '',
    'body',
    '',
  ].join('\r\n'),
);

function ledgerWithForged(values: unknown): LedgerLine[] {
  return [
    { plugin: 'parse', stage: 'data', verdict: 'continue', score: 0, reason: 'parsed', durationMs: 1 },
    { plugin: 'auth', stage: 'data', verdict: 'continue', score: 3, reason: 'spf none', durationMs: 2, details: { forgedAuthResults: values } },
  ];
}

/** A store holding one message and its ledger (unit test: only the two reads showMessage makes). */
function storeWith(ledger: LedgerLine[]) {
  return { getFullMessage: async () => RAW, getLedger: async () => ledger };
}

const ENTRY = { id: '01TESTENTRY' } as MailboxEntry;

describe('showMessage and forged Authentication-Results', () => {
  it('marks the incoming header that claimed our authserv-id, and only that one', async () => {
    const view = await showMessage(storeWith(ledgerWithForged(['mx.hermod.test;\tspf=pass smtp.mailfrom=bank.example'])), ENTRY);
    const results = view.headers.filter((h) => h.name === 'Authentication-Results');
    expect(results).toEqual([
      { name: 'Authentication-Results', value: 'mx.hermod.test; spf=pass smtp.mailfrom=bank.example', forged: true },
      { name: 'Authentication-Results', value: 'relay.example.net; dkim=fail' },
    ]);
  });

  it('marks nothing when the auth plugin found no forgery, or recorded something else', async () => {
    for (const ledger of [[], ledgerWithForged([]), ledgerWithForged('not a list')]) {
      const view = await showMessage(storeWith(ledger), ENTRY);
      expect(view.headers.some((h) => 'forged' in h)).toBe(false);
    }
  });
});
