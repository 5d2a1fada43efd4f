/** The evaluation's table on stdout and its JSON file. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Confusion, Rates } from './metrics.js';

/** Results of one row (engine) over all folds. */
export interface RowResult {
  perFold: Rates[];
  mean: Rates;
  /** All folds summed. */
  total: Confusion;
}

/** The whole evaluation, as written to JSON. */
export interface EvalReport {
  date: string;
  options: { folds: number; seed: number; limit: number | null };
  corpus: Record<string, number>;
  rows: Record<string, RowResult>;
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

/** The table: per-fold means of each rate, plus the summed counts that matter most (FP, FN). */
export function formatTable(report: EvalReport): string {
  const header = ['engine', 'FP rate', 'FN rate', 'precision', 'recall', 'F1', 'unsure', 'FP/ham', 'hard-ham FP', 'FN/spam'];
  const rows = Object.entries(report.rows).map(([name, r]) => {
    const t = r.total;
    const hardHam = t.hamByGroup['hard-ham-1'] ?? 0;
    return [
      name,
      pct(r.mean.fpRate),
      pct(r.mean.fnRate),
      pct(r.mean.precision),
      pct(r.mean.recall),
      pct(r.mean.f1),
      pct(r.mean.unsureRate),
      `${t.fp}/${t.fp + t.tn}`,
      `${t.fpByGroup['hard-ham-1'] ?? 0}/${hardHam}`,
      `${t.fn}/${t.fn + t.tp}`,
    ];
  });
  const lines = [pad([header, ...rows])];
  for (const [name, why] of Object.entries(report.unavailable)) lines.push(`${name}: not run: ${why}`);
  for (const [name, note] of Object.entries(report.notes)) lines.push(`${name}: ${note}`);
  lines.push(`rates are per-fold means over ${report.options.folds} folds; counts are all folds summed`);
  return lines.join('\n');
}

export function writeReport(file: string, report: EvalReport): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
}
