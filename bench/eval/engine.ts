import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Sample } from './corpus.js';
import type { Prediction } from './metrics.js';

/**
 * One spam filter under evaluation. Each fold: `train` on the other folds (from nothing), then
 * `classify` every message of the fold. One engine may report several rows (Hermod's Bayes
 * filter alone, and Hermod's whole chain).
 */
export interface EvalEngine {
  /** Row names, in the order `classify` returns predictions. */
  readonly rows: string[];
  /** Messages classified at once. @defaultValue 1 */
  readonly concurrency?: number;
  /** Starts what the engine needs; EngineUnavailable (with the reason) when it cannot run here. */
  start(): Promise<void>;
  /** Forgets everything learned, then learns these messages. */
  train(samples: Sample[]): Promise<void>;
  classify(sample: Sample): Promise<Prediction[]>;
  stop(): Promise<void>;
  /** Sanity notes for the report, e.g. how often the engine's Bayes rules fired. */
  notes?(): string;
}

/**
 * Writes training messages as one file each under dir/spam and dir/ham (what sa-learn and
 * rspamc read), replacing earlier contents of those folders.
 */
export function writeTrainingFiles(dir: string, samples: readonly Sample[]): { spam: string; ham: string } {
  const out = { spam: join(dir, 'spam'), ham: join(dir, 'ham') };
  for (const path of Object.values(out)) {
    rmSync(path, { recursive: true, force: true });
    mkdirSync(path, { recursive: true });
  }
  samples.forEach((s, i) => writeFileSync(join(out[s.label], `${String(i).padStart(5, '0')}.eml`), s.raw));
  return out;
}
