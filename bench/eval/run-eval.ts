/**
 * npm run eval:spam — accuracy on the SpamAssassin public corpus, by stratified k-fold cross
 * validation: Hermod's Bayesian filter (and its whole chain), SpamAssassin (spamd, Bayes trained
 * with sa-learn on the same folds, network tests off) and rspamd (Bayes on a private Redis,
 * trained with rspamc) as references.
 *
 *   --folds N     folds (default 5)            --limit N   use about N messages, stratified
 *   --seed N      shuffle seed (default 42)    --engines   hermod,spamassassin,rspamd
 *   --out FILE    JSON (default bench/results/eval-spam.json)
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadCorpus, stratifiedFolds, type Sample } from './corpus.js';
import type { EvalEngine } from './engine.js';
import { HermodEngine } from './hermod-engine.js';
import { emptyConfusion, meanRates, rates, record, sumConfusions, type Confusion } from './metrics.js';
import { EngineUnavailable } from './processes.js';
import { formatTable, writeReport, type EvalReport } from './report.js';
import { RspamdEngine } from './rspamd-engine.js';
import { SpamAssassinEngine } from './spamassassin-engine.js';

const DEFAULT_OUT = fileURLToPath(new URL('../results/eval-spam.json', import.meta.url));

const ENGINES: Record<string, () => EvalEngine> = {
  hermod: () => new HermodEngine(),
  spamassassin: () => new SpamAssassinEngine(),
  rspamd: () => new RspamdEngine(),
};

interface Options {
  folds: number;
  seed: number;
  limit?: number;
  engines: string[];
  out: string;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      folds: { type: 'string', default: '5' },
      seed: { type: 'string', default: '42' },
      limit: { type: 'string' },
      engines: { type: 'string', default: Object.keys(ENGINES).join(',') },
      out: { type: 'string', default: DEFAULT_OUT },
    },
  });
  const int = (name: string, v: string, min: number): number => {
    if (!/^\d+$/.test(v) || Number(v) < min) throw new Error(`--${name}: expected a whole number >= ${min}, got "${v}"`);
    return Number(v);
  };
  const engines = values.engines!.split(',').map((e) => e.trim()).filter(Boolean);
  for (const e of engines) if (!ENGINES[e]) throw new Error(`--engines: unknown engine "${e}" (${Object.keys(ENGINES).join(', ')})`);
  return {
    folds: int('folds', values.folds!, 2),
    seed: int('seed', values.seed!, 0),
    limit: values.limit === undefined ? undefined : int('limit', values.limit, 10),
    engines,
    out: values.out!,
  };
}

/** Classifies the fold with at most `concurrency` messages in flight; one confusion per row. */
async function testFold(engine: EvalEngine, test: Sample[]): Promise<Confusion[]> {
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

/** Runs one engine over every fold; its rows' confusions per fold. */
async function evaluate(name: string, engine: EvalEngine, folds: Sample[][]): Promise<Confusion[][]> {
  running = engine;
  try {
    await engine.start();
    const perRow: Confusion[][] = engine.rows.map(() => []);
    for (let i = 0; i < folds.length; i++) {
      const train = folds.filter((_, j) => j !== i).flat();
      let t = performance.now();
      await engine.train(train);
      const trainS = (performance.now() - t) / 1000;
      t = performance.now();
      const confusions = await testFold(engine, folds[i]);
      const testS = (performance.now() - t) / 1000;
      confusions.forEach((c, r) => perRow[r].push(c));
      const summary = confusions.map((c, r) => `${engine.rows[r]} fp=${c.fp} fn=${c.fn}`).join(', ');
      process.stderr.write(
        `${name} fold ${i + 1}/${folds.length}: trained ${train.length} in ${trainS.toFixed(1)} s, ` +
          `tested ${folds[i].length} in ${testS.toFixed(1)} s (${summary})\n`,
      );
    }
    return perRow;
  } finally {
    running = undefined;
    await engine.stop();
  }
}

async function main(): Promise<void> {
  const opts = options();
  const corpus = loadCorpus();
  const folds = stratifiedFolds(corpus, opts.folds, opts.seed, opts.limit);
  const used = folds.flat();
  const report: EvalReport = {
    date: new Date().toISOString(),
    options: { folds: opts.folds, seed: opts.seed, limit: opts.limit ?? null },
    corpus: Object.fromEntries(['easy-ham-1', 'easy-ham-2', 'hard-ham-1', 'spam-1', 'spam-2'].map((g) => [g, used.filter((s) => s.group === g).length])),
    rows: {},
    unavailable: {},
    durationsSeconds: {},
    notes: {},
  };
  process.stderr.write(`corpus: ${used.length} messages in ${opts.folds} folds (${JSON.stringify(report.corpus)})\n`);
  for (const name of opts.engines) {
    const engine = ENGINES[name]();
    const started = performance.now();
    try {
      const perRow = await evaluate(name, engine, folds);
      engine.rows.forEach((row, r) => {
        const perFold = perRow[r].map(rates);
        report.rows[row] = { perFold, mean: meanRates(perFold), total: sumConfusions(perRow[r]) };
      });
      const note = engine.notes?.();
      if (note) report.notes[name] = note;
    } catch (err) {
      if (!(err instanceof EngineUnavailable)) throw err;
      report.unavailable[name] = err.message;
      process.stderr.write(`${name}: not run: ${err.message}\n`);
    }
    report.durationsSeconds[name] = Math.round((performance.now() - started) / 100) / 10;
  }
  process.stdout.write(`${formatTable(report)}\n`);
  writeReport(opts.out, report);
  process.stdout.write(`written: ${opts.out}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`eval-spam: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
