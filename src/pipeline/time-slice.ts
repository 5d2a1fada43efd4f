/**
 * Bounded synchronous stretches. Work on message content (HTML scans, tokenizing, rule passes) is
 * linear, but on a megabyte it still holds the event loop for tens of milliseconds of CPU, and on
 * a busy machine the scheduler stretches that into hundreds: every other connection waits. A
 * TimeSlice lets such work give the loop a turn (setImmediate, so timers and sockets go first)
 * once it has run longer than its budget. Checking is a clock read, so an ordinary message that
 * finishes within the budget never yields and pays nothing measurable.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

/** CPU a content pass may hold the event loop for before it yields. */
export const SLICE_BUDGET_MS = 4;

/** Characters a sliced text pass handles between two budget checks. */
export const SLICE_CHARS = 16 * 1024;

/** Loop steps (or matches) a stepped pass takes between two yields, i.e. two chances of a turn. */
export const SLICE_STEPS = 4096;

/** Already settled: what `pause()` hands back while within the budget, the same object each time. */
const WITHIN_BUDGET: Promise<void> = Promise.resolve();

/** The clock of one piece of work: `pause()` yields once the budget since the last turn is spent. */
export class TimeSlice {
  private since = performance.now();

  constructor(private readonly budgetMs = SLICE_BUDGET_MS) {}

  /**
   * True once the budget since the last turn is spent. A loop that runs per rule or per chunk of
   * every message asks this first (`if (slice.due) await slice.pause()`): within the budget it
   * then awaits nothing, and no promise is made per step.
   */
  get due(): boolean {
    return performance.now() - this.since >= this.budgetMs;
  }

  /**
   * Resolves at once while within the budget; otherwise after one turn of the event loop. Not an
   * async function: within the budget it returns one shared settled promise instead of a new one.
   */
  pause(): Promise<void> {
    return this.due ? this.turn() : WITHIN_BUDGET;
  }

  private async turn(): Promise<void> {
    await nextTurn();
    this.since = performance.now();
  }
}

const WHITE_SPACE = /\s/;

/**
 * `text` in pieces of about `size` characters, each cut just before a white-space character, so
 * a pass that treats white space as a separator (words, mixed-script words) gives the same
 * result piece by piece as on the whole. A run with no white space stays in one piece; callers
 * bound their input, so such a piece is bounded too.
 */
export function* whiteSpaceChunks(text: string, size = SLICE_CHARS): Generator<string> {
  let at = 0;
  while (at < text.length) {
    let end = Math.min(text.length, at + size);
    while (end < text.length && !WHITE_SPACE.test(text.charAt(end))) end++;
    yield text.slice(at, end);
    at = end;
  }
}

/**
 * A pass written as a generator that yields now and then (every few thousand steps) and returns
 * its result: one implementation serves both callers that want the answer at once and callers on
 * the message path that give the event loop turns.
 */
export type SteppedPass<T> = Generator<void, T, void>;

/** Runs a stepped pass to its end without pausing. */
export function runPass<T>(pass: SteppedPass<T>): T {
  for (;;) {
    const step = pass.next();
    if (step.done) return step.value;
  }
}

/** Runs a stepped pass, with a turn of the event loop at a step once the slice is spent. */
export async function runPassSliced<T>(pass: SteppedPass<T>, slice: TimeSlice): Promise<T> {
  for (;;) {
    const step = pass.next();
    if (step.done) return step.value;
    if (slice.due) await slice.pause();
  }
}
