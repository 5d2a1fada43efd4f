import { describe, expect, it } from 'vitest';
import {
  chronologicalSplit, developmentFiles, GROUPS, headerDate, shuffle, seededRandom, stratifiedFolds, type Group, type Sample,
} from '../../bench/eval/corpus.js';
import { emptyConfusion, meanRates, rates, record, sumConfusions } from '../../bench/eval/metrics.js';

/** A synthetic corpus: `n` messages per group (no bytes needed to split or count). */
function corpus(n: Partial<Record<Group, number>>): Sample[] {
  return (Object.keys(n) as Group[]).flatMap((group) =>
    Array.from({ length: n[group]! }, (_, i) => ({ id: `${group}/${i}`, group, label: GROUPS[group], raw: Buffer.alloc(0), date: i * 1000 })),
  );
}

describe('eval:spam corpus parts', () => {
  it('knows only the development groups: spam-2 and easy-ham-2 cannot be loaded', () => {
    expect(Object.keys(GROUPS).sort()).toEqual(['easy-ham-1', 'hard-ham-1', 'spam-1']);
  });

  it('keeps the hard-ham files at odd positions (1st, 3rd, …) of the sorted names, and all of the others', () => {
    const names = ['00004.d.txt', '00001.a.txt', '00003.c.txt', '00002.b.txt', '00002.b.json', '00005.e.txt'];
    expect(developmentFiles('hard-ham-1', names)).toEqual(['00001.a.txt', '00003.c.txt', '00005.e.txt']);
    expect(developmentFiles('spam-1', names)).toEqual(['00001.a.txt', '00002.b.txt', '00003.c.txt', '00004.d.txt', '00005.e.txt']);
  });

  it('reads the Date header (folded, with a trailing comment) and gives null without one', () => {
    const raw = Buffer.from('From: a@b.example\r\nDate: Thu, 5 Sep 2002\r\n 15:42:38 -0700 (PDT)\r\n\r\nDate: not this\r\n');
    expect(headerDate(raw)).toBe(Date.parse('Thu, 5 Sep 2002 15:42:38 -0700'));
    expect(headerDate(Buffer.from('From: a@b.example\r\n\r\nDate: Thu, 5 Sep 2002 15:42:38 -0700\r\n'))).toBeNull();
  });
});

describe('eval:spam chronological split', () => {
  it('trains on the oldest 70 % of each group and tests on the newest 30 %', () => {
    const samples = shuffle(corpus({ 'easy-ham-1': 100, 'hard-ham-1': 10, 'spam-1': 40 }), seededRandom(1));
    const { train, test } = chronologicalSplit(samples);
    for (const [group, n] of [['easy-ham-1', 100], ['hard-ham-1', 10], ['spam-1', 40]] as const) {
      const trained = train.filter((s) => s.group === group);
      const tested = test.filter((s) => s.group === group);
      expect(trained).toHaveLength(Math.round(n * 0.7));
      expect(tested).toHaveLength(n - Math.round(n * 0.7));
      expect(Math.max(...trained.map((s) => s.date!))).toBeLessThan(Math.min(...tested.map((s) => s.date!)));
    }
  });

  it('puts messages without a readable date into training, never into the test part', () => {
    const samples = corpus({ 'spam-1': 10 }).map((s, i) => (i === 9 ? { ...s, date: null } : s));
    const { train, test } = chronologicalSplit(samples);
    expect(train.map((s) => s.id)).toContain('spam-1/9');
    expect(test.map((s) => s.id)).toEqual(['spam-1/6', 'spam-1/7', 'spam-1/8']);
  });
});

describe('eval:spam folds', () => {
  const samples = corpus({ 'easy-ham-1': 100, 'hard-ham-1': 10, 'spam-1': 40 });

  it('deals every message into exactly one fold, each group evenly', () => {
    const folds = stratifiedFolds(samples, 5, 42);
    expect(folds.flat().map((s) => s.id).sort()).toEqual(samples.map((s) => s.id).sort());
    for (const fold of folds) {
      expect(fold.filter((s) => s.group === 'easy-ham-1')).toHaveLength(20);
      expect(fold.filter((s) => s.group === 'hard-ham-1')).toHaveLength(2);
      expect(fold.filter((s) => s.group === 'spam-1')).toHaveLength(8);
    }
  });

  it('is the same for the same seed and differs for another', () => {
    const ids = (seed: number) => stratifiedFolds(samples, 5, seed).map((f) => f.map((s) => s.id));
    expect(ids(42)).toEqual(ids(42));
    expect(ids(42)).not.toEqual(ids(7));
  });

  it('keeps each group\'s share under --limit', () => {
    const folds = stratifiedFolds(samples, 2, 1, 30);
    const used = folds.flat();
    expect(used.filter((s) => s.group === 'easy-ham-1')).toHaveLength(20);
    expect(used.filter((s) => s.group === 'hard-ham-1')).toHaveLength(2);
    expect(used.filter((s) => s.group === 'spam-1')).toHaveLength(8);
  });

  it('shuffles deterministically', () => {
    expect(shuffle([1, 2, 3, 4, 5], seededRandom(3))).toEqual(shuffle([1, 2, 3, 4, 5], seededRandom(3)));
    expect([...shuffle([1, 2, 3, 4, 5], seededRandom(3))].sort()).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('eval:spam metrics', () => {
  it('counts and rates with spam as the positive class', () => {
    const c = emptyConfusion();
    // 8 spam: 6 caught, 2 missed (one unsure); 10 ham: 1 false positive (hard ham).
    for (let i = 0; i < 6; i++) record(c, 'spam', 'spam-1', { spam: true });
    record(c, 'spam', 'spam-1', { spam: false });
    record(c, 'spam', 'spam-1', { spam: false, unsure: true });
    for (let i = 0; i < 9; i++) record(c, 'ham', 'easy-ham-1', { spam: false });
    record(c, 'ham', 'hard-ham-1', { spam: true });
    expect(c).toMatchObject({ tp: 6, fn: 2, tn: 9, fp: 1, unsure: 1, fpByGroup: { 'hard-ham-1': 1 } });
    const r = rates(c);
    expect(r.fpRate).toBeCloseTo(0.1);
    expect(r.fnRate).toBeCloseTo(0.25);
    expect(r.precision).toBeCloseTo(6 / 7);
    expect(r.recall).toBeCloseTo(0.75);
    expect(r.f1).toBeCloseTo((2 * (6 / 7) * 0.75) / (6 / 7 + 0.75));
    expect(r.unsureRate).toBeCloseTo(1 / 18);
    expect(sumConfusions([c, c])).toMatchObject({ tp: 12, fp: 2, hamByGroup: { 'easy-ham-1': 18, 'hard-ham-1': 2 } });
    expect(meanRates([r, { ...r, fpRate: 0.3 }]).fpRate).toBeCloseTo(0.2);
  });

  it('gives 0 rather than NaN when a class is absent', () => {
    expect(rates(emptyConfusion())).toEqual({ fpRate: 0, fnRate: 0, precision: 0, recall: 0, f1: 0, unsureRate: 0 });
  });
});
