import { describe, expect, it } from 'vitest';
import { verdictOf } from './classifier.js';
import { chi2Q, fisherCombine, selectClues, tokenProbability } from './robinson.js';

const totals = { spam: 10, ham: 10 };

describe('tokenProbability: Robinson f(w) = (s·x + n·p) / (s + n)', () => {
  it.each([
    // [counts, totals, s, x, expected]
    [{ spam: 0, ham: 0 }, totals, 1, 0.5, 0.5], // never seen: the prior x
    [{ spam: 0, ham: 0 }, totals, 1, 0.4, 0.4],
    [{ spam: 1, ham: 0 }, totals, 1, 0.5, 0.75], // p=1, n=1: (0.5 + 1) / 2
    [{ spam: 0, ham: 1 }, totals, 1, 0.5, 0.25],
    [{ spam: 10, ham: 0 }, totals, 1, 0.5, 10.5 / 11], // many sightings pull towards p
    [{ spam: 5, ham: 5 }, totals, 1, 0.5, 0.5], // equal shares: p = 0.5
    // Unequal class sizes: shares, not counts. b = 2/10, g = 2/40 → p = 0.8, n = 4.
    [{ spam: 2, ham: 2 }, { spam: 10, ham: 40 }, 1, 0.5, (0.5 + 4 * 0.8) / 5],
    [{ spam: 1, ham: 0 }, totals, 0.45, 0.5, (0.45 * 0.5 + 1) / 1.45],
    // Counts above the totals (an unlearn with another tokenizer) are capped at a share of 1.
    [{ spam: 20, ham: 0 }, totals, 1, 0.5, 20.5 / 21],
  ])('%j of %j, s=%d x=%d → %d', (counts, tot, s, x, expected) => {
    expect(tokenProbability(counts, tot, s, x)).toBeCloseTo(expected, 12);
  });

  it('stays strictly inside (0, 1) so the logarithms of Fisher are defined', () => {
    const f = tokenProbability({ spam: 1_000_000, ham: 0 }, { spam: 1_000_000, ham: 1 }, 0.45, 0.5);
    expect(f).toBeLessThan(1);
    expect(f).toBeGreaterThan(0.999);
  });
});

describe('chi2Q: chi-square survival function, even degrees of freedom', () => {
  it.each([
    [0, 2, 1],
    [2, 2, Math.exp(-1)],
    [10, 4, Math.exp(-5) * (1 + 5)], // Q = e^-m (1 + m) for v = 4
    [9.487729, 4, 0.05], // the 95% critical value of chi-square(4)
    [18.307038, 10, 0.05], // the 95% critical value of chi-square(10)
    [3.940299, 10, 0.95],
    [2000, 300, 0], // far in the tail: ~0, no NaN or overflow
    [100, 1000, 1], // far below the mean: capped at 1
  ])('chi2Q(%d, %d) = %d', (x2, v, expected) => {
    expect(chi2Q(x2, v)).toBeCloseTo(expected, 5);
  });

  it('refuses odd or zero degrees of freedom', () => {
    expect(() => chi2Q(1, 3)).toThrow(RangeError);
    expect(() => chi2Q(1, 0)).toThrow(RangeError);
  });
});

describe('fisherCombine', () => {
  it.each([
    [[], 0.5],
    [[0.5], 0.5],
    [[0.5, 0.5, 0.5], 0.5],
    [[0.99, 0.99, 0.99, 0.99], 0.9999],
    [[0.01, 0.01, 0.01, 0.01], 0.0001],
    // Strong evidence both ways is uncertainty, not a verdict: this is what the unsure band catches.
    [[0.99, 0.99, 0.01, 0.01], 0.5],
  ])('%j → about %d', (fs, expected) => {
    expect(fisherCombine(fs)).toBeCloseTo(expected, 3);
  });

  it('is symmetric: I(f) + I(1 − f) = 1', () => {
    for (const fs of [[0.9, 0.2], [0.7, 0.8, 0.3], [0.99, 0.6, 0.55, 0.1]]) {
      expect(fisherCombine(fs) + fisherCombine(fs.map((f) => 1 - f))).toBeCloseTo(1, 12);
    }
  });

  it('grows more certain with more agreeing evidence', () => {
    expect(fisherCombine([0.8, 0.8, 0.8, 0.8, 0.8, 0.8])).toBeGreaterThan(fisherCombine([0.8, 0.8]));
  });
});

describe('selectClues', () => {
  const counts = new Map([
    ['strong-spam', { spam: 9, ham: 0 }],
    ['weak-spam', { spam: 6, ham: 4 }], // f ≈ 0.6: under minStrength 0.15
    ['strong-ham', { spam: 0, ham: 9 }],
    ['mild-ham', { spam: 1, ham: 5 }],
  ]);
  const params = { s: 1, x: 0.5, minStrength: 0.15, maxClues: 10 };

  it('drops unknown and weak tokens, sorts the rest strongest first', () => {
    const clues = selectClues(['weak-spam', 'mild-ham', 'unknown', 'strong-ham', 'strong-spam'], counts, totals, params);
    expect(clues.map((c) => c.token)).toEqual(['strong-ham', 'strong-spam', 'mild-ham']);
    expect(clues[0]).toMatchObject({ spam: 0, ham: 9 });
  });

  it('keeps at most maxClues and counts a repeated token once', () => {
    const clues = selectClues(['strong-spam', 'strong-spam', 'strong-ham', 'mild-ham'], counts, totals, {
      ...params,
      maxClues: 2,
    });
    expect(clues.map((c) => c.token)).toEqual(['strong-ham', 'strong-spam']);
  });
});

describe('verdictOf: the unsure band', () => {
  const band = { unsureLow: 0.2, unsureHigh: 0.9 };
  it.each([
    [0, 'ham'],
    [0.2, 'ham'],
    [0.2001, 'unsure'],
    [0.5, 'unsure'],
    [0.8999, 'unsure'],
    [0.9, 'spam'],
    [1, 'spam'],
  ])('%d → %s', (p, verdict) => {
    expect(verdictOf(p, band)).toBe(verdict);
  });
});
