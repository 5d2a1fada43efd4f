/**
 * `--bayes-train N`: teaches a fresh Hermod's Bayesian filter N spam and N ham messages (through
 * `hermod spam train`) before the warm-up, so the load runs against a trained filter that looks
 * up every token of every message, as in production. The bench's own load comes from
 * smtp-source, whose bodies are a fixed run of 'X': its messages have few tokens (headers,
 * mostly), so this measures the per-message cost of a trained filter's lookups and totals, not
 * the cost of a long message's 3,000 tokens.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hermodCli } from './hermod-process.js';

/** Words the training mail is made of: pseudo-words, a few common, most rare (Zipf-like). */
const VOCABULARY = 8000;
/** Words per training message body. */
const WORDS_PER_MESSAGE = 160;

/** A deterministic pseudo-random sequence (the same mail every run). */
function generator(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** The word of a rank: letters only, so the tokenizer keeps it whole. */
function word(rank: number): string {
  let n = rank + 26 * 26;
  let out = '';
  while (n > 0) {
    out += String.fromCharCode(97 + (n % 26));
    n = Math.floor(n / 26);
  }
  return out;
}

/** One message of a label: its words lean to one half of the vocabulary, so the labels differ. */
function message(label: 'spam' | 'ham', index: number): string {
  const random = generator(index * 2 + (label === 'spam' ? 1 : 2));
  const words: string[] = [];
  for (let i = 0; i < WORDS_PER_MESSAGE; i++) {
    const rank = Math.floor(random() ** 3 * (VOCABULARY / 2));
    words.push(word(label === 'spam' ? rank * 2 : rank * 2 + 1));
  }
  const lines: string[] = [];
  for (let i = 0; i < words.length; i += 12) lines.push(words.slice(i, i + 12).join(' '));
  return [
    `From: ${label}${index}@training.test`,
    'To: user@bench.test',
    `Subject: ${words.slice(0, 6).join(' ')}`,
    `Message-ID: <${label}-${index}@training.test>`,
    'Date: Fri, 4 Dec 2026 12:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    ...lines,
    '',
  ].join('\r\n');
}

/** Writes `count` messages of each label under `dir` and teaches them to the filter. */
export async function trainBayes(configFile: string, dir: string, count: number): Promise<void> {
  for (const label of ['spam', 'ham'] as const) {
    const folder = join(dir, `train-${label}`);
    mkdirSync(folder, { recursive: true });
    for (let i = 0; i < count; i++) writeFileSync(join(folder, `${i}.eml`), message(label, i));
    await hermodCli(configFile, ['spam', 'train', `--${label}`, folder]);
  }
}
