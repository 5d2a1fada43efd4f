import { describe, expect, it } from 'vitest';
import { htmlToPlainText, htmlToPlainTextSteps } from '../../src/mail/html-text.js';
import { runPass, runPassSliced, TimeSlice, whiteSpaceChunks, type SteppedPass } from '../../src/pipeline/time-slice.js';

/** Resolves with whether a setImmediate queued before `work` ran before `work` finished. */
async function turnTakenDuring(work: () => Promise<unknown>): Promise<boolean> {
  let turned = false;
  setImmediate(() => (turned = true));
  await work();
  return turned;
}

function* counting(n: number): SteppedPass<number> {
  for (let i = 0; i < n; i++) yield;
  return n;
}

describe('TimeSlice', () => {
  it('gives the event loop a turn once its budget is spent', async () => {
    expect(await turnTakenDuring(() => new TimeSlice(0).pause())).toBe(true);
  });

  it('resolves without a turn while within its budget', async () => {
    expect(await turnTakenDuring(() => new TimeSlice(60_000).pause())).toBe(false);
  });
});

describe('whiteSpaceChunks', () => {
  it('cuts before white space only, and the pieces join back to the text', () => {
    const text = 'alpha beta\tgamma\ndelta '.repeat(5000) + 'x'.repeat(40_000) + ' tail';
    const pieces = [...whiteSpaceChunks(text, 1000)];
    expect(pieces.join('')).toBe(text);
    expect(pieces.length).toBeGreaterThan(100);
    for (const piece of pieces.slice(1)) expect(piece).toMatch(/^\s/);
    // A run without white space stays whole.
    expect(pieces.some((p) => p.includes('x'.repeat(40_000)))).toBe(true);
  });

  it('gives nothing for an empty text', () => {
    expect([...whiteSpaceChunks('')]).toEqual([]);
  });
});

describe('stepped passes', () => {
  it('give the same result at once and with turns', async () => {
    expect(runPass(counting(10_000))).toBe(10_000);
    expect(await runPassSliced(counting(10_000), new TimeSlice(0))).toBe(10_000);
  });

  it('strip hostile and ordinary HTML to the same text with turns as at once', async () => {
    const samples = [
      '<'.repeat(300_000),
      '<a '.repeat(100_000),
      '<p>x</p><script>y</script><b>z</b> &amp; '.repeat(20_000),
      '<div>open <style>never closed',
    ];
    for (const html of samples) {
      expect(await runPassSliced(htmlToPlainTextSteps(html), new TimeSlice(0))).toBe(htmlToPlainText(html));
    }
  });
});
