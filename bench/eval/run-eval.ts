/**
 * npm run eval:spam — accuracy on the development part of the SpamAssassin public corpus (see
 * corpus.ts: the reserved part cannot be loaded). Hermod's Bayesian filter and its whole chain,
 * SpamAssassin (spamd, Bayes trained with sa-learn, network tests off) and rspamd (Bayes on a
 * private Redis, trained with rspamc) learn from the same training part and classify the same
 * test part.
 *
 * Splits (--split):
 *   chrono  the oldest 70 % of each group (by Date header) train, the newest 30 % test — the
 *           headline: how a filter does on mail newer than what it learned from
 *   cv      stratified k-fold cross-validation over the development part (secondary: it mixes
 *           older and newer mail, so it flatters every filter)
 *   both    chrono, then cv (default)
 *   tune    an inner chronological split of the chrono TRAINING part (oldest 70 % of it train,
 *           the rest test): for tuning rules and scores without looking at the chrono test part
 *
 *   --folds N     folds for cv (default 5)     --limit N   cv on about N messages, stratified
 *   --seed N      cv shuffle seed (default 42) --engines   hermod,spamassassin,rspamd
 *   --out FILE    JSON (default bench/results/eval-spam.json)
 *   --dump FILE   Hermod's per-message results on the first split's test part, as JSON lines
 *   --hermod-config JSON   Hermod plugin config overrides, e.g. '{"bayes":{"maxClues":50}}'
 * A quick Hermod-only run while tuning: npm run eval:spam -- --engines hermod --split tune
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chronologicalSplit, GROUPS, loadCorpus, stratifiedFolds, type Sample } from './corpus.js';
import type { EvalEngine } from './engine.js';
import { HermodEngine } from './hermod-engine.js';
import { emptyConfusion, record, sumConfusions, type Confusion } from './metrics.js';
import { EngineUnavailable } from './processes.js';
import { formatReport, rowResult, writeReport, type EvalReport, type SplitResult } from './report.js';
import { RspamdEngine } from './rspamd-engine.js';
import { SpamAssassinEngine } from './spamassassin-engine.js';

const DEFAULT_OUT = fileURLToPath(new URL('../results/eval-spam.json', import.meta.url));

/** --hermod-config: plugin config overrides for Hermod while tuning, e.g. {"bayes":{"maxClues":50}}. */
let hermodOverrides: { bayes?: Record<string, unknown>; spam?: Record<string, unknown> } = {};

const ENGINES: Record<string, () => EvalEngine> = {
  hermod: () => new HermodEngine(hermodOverrides),
  spamassassin: () => new SpamAssassinEngine(),
  rspamd: () => new RspamdEngine(),
};

const SPLITS = ['chrono', 'cv', 'both', 'tune'] as const;

interface Options {
  split: (typeof SPLITS)[number];
  folds: number;
  seed: number;
  limit?: number;
  engines: string[];
  out: string;
  /** JSON lines: Hermod's per-message results on the first split's test part. */
  dump?: string;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      split: { type: 'string', default: 'both' },
      folds: { type: 'string', default: '5' },
      seed: { type: 'string', default: '42' },
      limit: { type: 'string' },
      engines: { type: 'string', default: Object.keys(ENGINES).join(',') },
      out: { type: 'string', default: DEFAULT_OUT },
      dump: { type: 'string' },
      'hermod-config': { type: 'string' },
    },
  });
  const int = (name: string, v: string, min: number): number => {
    if (!/^\d+$/.test(v) || Number(v) < min) throw new Error(`--${name}: expected a whole number >= ${min}, got "${v}"`);
    return Number(v);
  };
  const engines = values.engines!.split(',').map((e) => e.trim()).filter(Boolean);
  for (const e of engines) if (!ENGINES[e]) throw new Error(`--engines: unknown engine "${e}" (${Object.keys(ENGINES).join(', ')})`);
  const split = values.split as Options['split'];
  if (!SPLITS.includes(split)) throw new Error(`--split: expected one of ${SPLITS.join(', ')}, got "${values.split}"`);
  if (values['hermod-config'] !== undefined) {
    try {
      hermodOverrides = JSON.parse(values['hermod-config']) as typeof hermodOverrides;
    } catch (err) {
      throw new Error(`--hermod-config: not JSON: ${(err as Error).message}`);
    }
  }
  return {
    split,
    folds: int('folds', values.folds!, 2),
    seed: int('seed', values.seed!, 0),
    limit: values.limit === undefined ? undefined : int('limit', values.limit, 10),
    engines,
    out: values.out!,
    dump: values.dump,
  };
}

/** One split: named training/test parts (one for chrono, k for cv). */
interface SplitPlan {
  name: string;
  description: string;
  parts: { train: Sample[]; test: Sample[] }[];
}

const counts = (samples: readonly Sample[]): string =>
  (Object.keys(GROUPS) as (keyof typeof GROUPS)[]).map((g) => `${samples.filter((s) => s.group === g).length} ${g}`).join(', ');

function plans(corpus: Sample[], opts: Options): SplitPlan[] {
  const chrono = chronologicalSplit(corpus);
  const out: SplitPlan[] = [];
  if (opts.split === 'tune') {
    const inner = chronologicalSplit(chrono.train);
    out.push({ name: 'tune', description: `inner chronological split of the development training part; test: ${counts(inner.test)}`, parts: [inner] });
  }
  if (opts.split === 'chrono' || opts.split === 'both') {
    out.push({ name: 'chronological', description: `oldest 70 % of each group train, newest 30 % test; test: ${counts(chrono.test)}`, parts: [chrono] });
  }
  if (opts.split === 'cv' || opts.split === 'both') {
    const folds = stratifiedFolds(corpus, opts.folds, opts.seed, opts.limit);
    out.push({
      name: 'cross-validation',
      description: `${opts.folds}-fold stratified (seed ${opts.seed}) over ${folds.flat().length} development messages`,
      parts: folds.map((test, i) => ({ train: folds.filter((_, j) => j !== i).flat(), test })),
    });
  }
  return out;
}

/** Classifies the test part with at most `concurrency` messages in flight; one confusion per row. */
async function testPart(engine: EvalEngine, test: Sample[]): Promise<Confusion[]> {
  const confusions = engine.rows.map(() => emptyConfusion());
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < test.length) {
      const sample = test[next++];
      const predictions = await engine.classify(sample);
      predictions.forEach((p, i) => record(confusions[i], sample.label, sample.group, p));
    }
  };
  await Promise.all(Array.from({ length: engine.concurrency ?? 1 }, worker));
  return confusions;
}

/** The engine running now, stopped (daemons, temp files) when the run is interrupted. */
let running: EvalEngine | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`eval-spam: ${signal}, stopping\n`);
    void (running?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

/** Runs one engine over every part of a split; its rows' confusions, summed over the parts. */
async function evaluate(name: string, engine: EvalEngine, plan: SplitPlan, report: EvalReport): Promise<Confusion[]> {
  const perRow: Confusion[][] = engine.rows.map(() => []);
  for (const [i, part] of plan.parts.entries()) {
    let t = performance.now();
    await engine.train(part.train);
    const trainS = (performance.now() - t) / 1000;
    t = performance.now();
    const collectHits = engine instanceof HermodEngine && i === 0 && report.ruleHits === null;
    if (collectHits) engine.resetRuleHits();
    const confusions = await testPart(engine, part.test);
    if (collectHits) {
      report.ruleHits = { split: plan.name, ...engine.ruleHits() };
      if (dumpFile) writeFileSync(dumpFile, engine.records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    }
    const testS = (performance.now() - t) / 1000;
    confusions.forEach((c, r) => perRow[r].push(c));
    const summary = confusions.map((c, r) => `${engine.rows[r]} fp=${c.fp} fn=${c.fn}`).join(', ');
    process.stderr.write(
      `${name} ${plan.name} ${i + 1}/${plan.parts.length}: trained ${part.train.length} in ${trainS.toFixed(1)} s, ` +
        `tested ${part.test.length} in ${testS.toFixed(1)} s (${summary})\n`,
    );
  }
  return perRow.map(sumConfusions);
}

/** Runs one engine on every split, filling the report's rows. */
async function runEngine(name: string, splits: SplitPlan[], results: SplitResult[], report: EvalReport): Promise<void> {
  const engine = ENGINES[name]();
  const started = performance.now();
  running = engine;
  try {
    await engine.start();
    for (const [s, plan] of splits.entries()) {
      const totals = await evaluate(name, engine, plan, report);
      engine.rows.forEach((row, r) => (results[s].rows[row] = rowResult(totals[r])));
    }
    const note = engine.notes?.();
    if (note) report.notes[name] = note;
  } catch (err) {
    if (!(err instanceof EngineUnavailable)) throw err;
    report.unavailable[name] = err.message;
    process.stderr.write(`${name}: not run: ${err.message}\n`);
  } finally {
    running = undefined;
    await engine.stop();
  }
  report.durationsSeconds[name] = Math.round((performance.now() - started) / 100) / 10;
}

/** Where --dump writes (set once from the options). */
let dumpFile: string | undefined;

async function main(): Promise<void> {
  const opts = options();
  dumpFile = opts.dump;
  const corpus = loadCorpus();
  const splits = plans(corpus, opts);
  const results: SplitResult[] = splits.map((p) => ({ name: p.name, description: p.description, rows: {} }));
  const report: EvalReport = {
    date: new Date().toISOString(),
    options: { split: opts.split, folds: opts.folds, seed: opts.seed, limit: opts.limit ?? null },
    corpus: Object.fromEntries(Object.keys(GROUPS).map((g) => [g, corpus.filter((s) => s.group === g).length])),
    splits: results,
    ruleHits: null,
    unavailable: {},
    durationsSeconds: {},
    notes: {},
  };
  process.stderr.write(`development corpus: ${corpus.length} messages (${counts(corpus)})\n`);
  for (const name of opts.engines) await runEngine(name, splits, results, report);
  process.stdout.write(`${formatReport(report)}\n`);
  writeReport(opts.out, report);
  process.stdout.write(`written: ${opts.out}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`eval-spam: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
