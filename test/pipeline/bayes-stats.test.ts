import { describe, expect, it } from 'vitest';
import { chooseStats } from '../../plugins/bayes/classifier.js';
import { bayesConfigSchema } from '../../plugins/bayes/config.js';
import type { BayesTokenStore } from '../../src/store/roles.js';
import type { BayesCounts } from '../../src/store/types.js';

/**
 * Totals per scope, answered only once every read asked so far is in flight: a classifier that
 * waited for one total before asking for the next would hang here (and time out), as it would
 * pay one round trip after the other on a distributed store.
 */
function totalsStore(totals: Record<string, BayesCounts>, expectedReads: number): { store: BayesTokenStore; asked: string[] } {
  const asked: string[] = [];
  const waiting: (() => void)[] = [];
  const bayesTotals = (scope: string) =>
    new Promise<BayesCounts>((resolve) => {
      asked.push(scope);
      waiting.push(() => resolve(totals[scope] ?? { spam: 0, ham: 0 }));
      if (waiting.length === expectedReads) for (const go of waiting.splice(0)) go();
    });
  const store = { bayesTotals } as unknown as BayesTokenStore;
  return { store, asked };
}

const GLOBAL = { spam: 500, ham: 700 };
const TRAINED = { spam: 60, ham: 80 };

describe('chooseStats', () => {
  it('fallback: reads both totals at once and uses the mailbox once it has learned enough', async () => {
    const { store, asked } = totalsStore({ global: GLOBAL, box1: TRAINED }, 2);
    const stats = await chooseStats(store, 'box1', bayesConfigSchema.parse({}));
    expect(asked.sort()).toEqual(['box1', 'global']);
    expect(stats).toEqual({ source: 'mailbox', scopes: ['box1'], totals: TRAINED });
  });

  it('fallback: an undertrained mailbox classifies with the global statistics', async () => {
    const { store } = totalsStore({ global: GLOBAL, box1: { spam: 3, ham: 90 } }, 2);
    const stats = await chooseStats(store, 'box1', bayesConfigSchema.parse({}));
    expect(stats).toEqual({ source: 'global', scopes: ['global'], totals: GLOBAL });
  });

  it('merge: sums the mailbox and the global totals, read at once', async () => {
    const { store } = totalsStore({ global: GLOBAL, box1: TRAINED }, 2);
    const stats = await chooseStats(store, 'box1', bayesConfigSchema.parse({ mailbox: { mode: 'merge' } }));
    expect(stats).toEqual({ source: 'merged', scopes: ['box1', 'global'], totals: { spam: 560, ham: 780 } });
  });

  it('global mode and a message without a mailbox read the global totals only', async () => {
    for (const [mailboxId, mode] of [['box1', 'global'], [null, 'fallback']] as const) {
      const { store, asked } = totalsStore({ global: GLOBAL, box1: TRAINED }, 1);
      const stats = await chooseStats(store, mailboxId, bayesConfigSchema.parse({ mailbox: { mode } }));
      expect(asked).toEqual(['global']);
      expect(stats).toEqual({ source: 'global', scopes: ['global'], totals: GLOBAL });
    }
  });
});
