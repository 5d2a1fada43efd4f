/** The evaluation's tables on stdout and its JSON file. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { rates, type Confusion, type Rates } from './metrics.js';

/** Results of one row (engine) on one split: all its test parts summed. */
export interface RowResult {
  /** Rates of the summed counts. */
  rates: Rates;
  total: Confusion;
}

/** One way of splitting the corpus into training and test parts, and every engine's results on it. */
export interface SplitResult {
  name: string;
  description: string;
  rows: Record<string, RowResult>;
}

/** Hits of one spam rule on the test messages of a split, by label (and hard ham apart). */
export interface RuleHits {
  spam: number;
  ham: number;
  hardHam: number;
}

/** The whole evaluation, as written to JSON. */
export interface EvalReport {
  date: string;
  options: Record<string, unknown>;
  corpus: Record<string, number>;
  splits: SplitResult[];
  /** Per spam rule, on the first split's test messages (Hermod's chain). */
  ruleHits: { split: string; spam: number; ham: number; hardHam: number; rules: Record<string, RuleHits> } | null;
  /** Engines that could not run here, with the reason. */
  unavailable: Record<string, string>;
  durationsSeconds: Record<string, number>;
  /** Engines' sanity notes (how often their Bayes fired). */
  notes: Record<string, string>;
}

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;

function pad(cells: string[][]): string {
  const widths = cells[0].map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  return cells.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}

/** The result row of one engine: FPR on all ham and on hard ham, recall, precision, F1, counts. */
export function rowResult(total: Confusion): RowResult {
  return { rates: rates(total), total };
}

/** One split's table. */
export function formatSplit(split: SplitResult): string {
  const header = ['engine', 'FPR all ham', 'FPR hard ham', 'recall', 'precision', 'F1', 'FP/ham', 'hard-ham FP', 'FN/spam', 'unsure'];
  const rows = Object.entries(split.rows).map(([name, r]) => {
    const t = r.total;
    const hardHam = t.hamByGroup['hard-ham-1'] ?? 0;
    const hardFp = t.fpByGroup['hard-ham-1'] ?? 0;
    return [
      name,
      pct(r.rates.fpRate),
      pct(hardHam === 0 ? 0 : hardFp / hardHam),
      pct(r.rates.recall),
      pct(r.rates.precision),
      r.rates.f1.toFixed(4),
      `${t.fp}/${t.fp + t.tn}`,
      `${hardFp}/${hardHam}`,
      `${t.fn}/${t.fn + t.tp}`,
      pct(r.rates.unsureRate),
    ];
  });
  return [`${split.name}: ${split.description}`, pad([header, ...rows])].join('\n');
}

/** The per-rule table: how often each spam rule hit spam and ham of the test messages. */
export function formatRuleHits(hits: NonNullable<EvalReport['ruleHits']>): string {
  const header = ['rule', 'spam hits', 'ham hits', 'hard-ham hits', 'spam %', 'ham %'];
  const rows = Object.entries(hits.rules)
    .sort(([a, x], [b, y]) => y.spam - x.spam || x.ham - y.ham || a.localeCompare(b))
    .map(([name, h]) => [name, String(h.spam), String(h.ham), String(h.hardHam), pct(h.spam / (hits.spam || 1)), pct(h.ham / (hits.ham || 1))]);
  return [
    `rule hits on the ${hits.split} test messages (${hits.spam} spam, ${hits.ham} ham of which ${hits.hardHam} hard ham):`,
    pad([header, ...rows]),
  ].join('\n');
}

/** Every table, the notes and the engines that did not run. */
export function formatReport(report: EvalReport): string {
  const lines = report.splits.map(formatSplit);
  if (report.ruleHits) lines.push(formatRuleHits(report.ruleHits));
  for (const [name, why] of Object.entries(report.unavailable)) lines.push(`${name}: not run: ${why}`);
  for (const [name, note] of Object.entries(report.notes)) lines.push(`${name}: ${note}`);
  lines.push('rates are from the counts summed over all test parts of a split; spam is the positive class');
  return lines.join('\n\n');
}

export function writeReport(file: string, report: EvalReport): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
}
