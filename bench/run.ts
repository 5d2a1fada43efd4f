/**
 * `npm run bench`: LMTP delivery throughput of a fresh Hermod on the embedded default, driven by
 * Postfix's smtp-source, against two others under the identical load in the same run: the bare
 * durable reference (bench/reference-server.ts: smtp-server LMTP + simpleParser + one fsync'd
 * file per message), whose ratio carries the speed goal, and Postfix's smtp-sink as the ceiling.
 * Hermod's idle RSS and its peak RSS under the 4 KiB load are printed beside their goals.
 *
 * --rounds N runs every case of a size N times, interleaved (hermod, reference, sink, hermod, …),
 * and prints each ratio per round and its median. On a shared machine a single pair of runs can
 * be minutes apart in what the disk and the other tenants do (the reference, bound by one fsync
 * per message, moves most); interleaved rounds put both sides under the same conditions. The
 * table's CPU ms/msg is the steadier figure across runs.
 *
 * Usage: npm run bench -- [--seconds 10] [--sessions 20] [--sizes 4096,65536] [--rounds 1]
 *                         [--latency-count 200] [--reconnect] [--keep] [--sink-only]
 *                         [--engines embedded|distributed] [--warmup 200]
 *                         [--servers hermod,reference,sink] [--bayes-train N]
 *        npm run bench -- --engines distributed --nodes 1,2,3 [--seconds 10] [--sessions 20]
 *                         [--sizes 4096] [--warmup 200]   (bench/nodes-run.ts: HAProxy in front)
 *        npm run bench -- --large   (memory of large messages, see large-run.ts)
 *
 * --engines distributed adds, per size, a Hermod on Cassandra + Elasticsearch (engines.ts; the
 * servers of scripts/services, started if needed) right after the embedded baseline, measured
 * the same way, and prints the distributed/embedded ratio. The default runs the embedded engines
 * only, exactly as before.
 *
 * For each size: a fresh Hermod (new temp dir, SQLite store + FTS5 index, default plugin chain)
 * takes `--sessions` parallel LMTP sessions from smtp-source for at least `--seconds`; its CPU and
 * peak RSS come from /proc. Then a sequential latency sample, SIGTERM, and a count of what the
 * store holds. Then smtp-sink (LMTP, -L) gets the same smtp-source load. Nothing here asserts on
 * timings; the exit code is non-zero only when a case fails or the stored count differs from sent.
 *
 * Message uniqueness (why stored == sent is a fair check): Hermod de-duplicates identical bytes
 * per mailbox (a retry after a lost reply yields one entry). smtp-source has no option to vary the
 * body (-l is a fixed run of 'X'), but every message it writes carries its own headers:
 * `Date:` and `Message-Id: <pid.fd.counter@host>` (pid of the smtp-source process, the session's
 * socket descriptor and a per-process message counter). Within one smtp-source process the ids
 * are unique (checked: 20 000 messages over 20 sessions into smtp-sink -D, zero duplicate ids), and
 * each batch is a new process with a new pid. So all sent messages have distinct bytes, one
 * mailbox is enough, and the run verifies it: distinct stored SHA-256 == entries == sent.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runHermodCase, runReferenceCase, runSinkCase, type RunSettings } from './cases.js';
import { engineProfiles, parseEngines, type EngineName, type EngineProfile } from './engines.js';
import { breakdownLines } from './distributed-stats.js';
import { caseName, engineRatio, latencyLine, ratioFor, ratioOverRounds, renderTable, sizeLabel, verificationLines, type CaseResult } from './report.js';
import { findTool } from './net-util.js';
import { runLargeBench } from './large-run.js';

/** Parsed command line. */
interface Options extends Omit<RunSettings, 'log'> {
  sizes: number[];
  sinkOnly: boolean;
  engines: EngineName[];
  /** Which servers run per size (all three unless narrowed for a quick look). */
  servers: Set<string>;
  /** Interleaved repetitions of every case of a size (ratios are then printed per round and as a median). */
  rounds: number;
}

/** Goals printed beside the figures (nothing asserts on them). */
const GOALS = { referenceRatio: 1.25, idleRssMiB: 90, peakRssMiB: 160, peakRssSize: 4096 };

/** Reads a positive integer flag or exits with a usage error. */
function positiveInt(name: string, raw: string | undefined, fallback: number, allowZero = false): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) {
    throw new Error(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${raw}`);
  }
  return n;
}

/** Parses argv into Options. */
function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string' },
      sessions: { type: 'string' },
      sizes: { type: 'string' },
      'latency-count': { type: 'string' },
      reconnect: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      'sink-only': { type: 'boolean', default: false },
      engines: { type: 'string' },
      warmup: { type: 'string' },
      servers: { type: 'string' },
      'bayes-train': { type: 'string' },
      rounds: { type: 'string' },
    },
    strict: true,
  });
  const sizes = (values.sizes ?? '4096,65536').split(',').map((s) => positiveInt('sizes', s.trim(), 0));
  return {
    seconds: positiveInt('seconds', values.seconds, 10),
    sessions: positiveInt('sessions', values.sessions, 20),
    sizes,
    latencyCount: positiveInt('latency-count', values['latency-count'], 200, true),
    warmup: positiveInt('warmup', values.warmup, 200, true),
    bayesTrain: positiveInt('bayes-train', values['bayes-train'], 0, true),
    reconnect: values.reconnect ?? false,
    keep: values.keep ?? false,
    sinkOnly: values['sink-only'] ?? false,
    engines: parseEngines(values.engines),
    servers: new Set((values.servers ?? 'hermod,reference,sink').split(',').map((x) => x.trim())),
    rounds: positiveInt('rounds', values.rounds, 1),
  };
}

/** Postfix version string, for the record. */
function postfixVersion(): string {
  try {
    return execFileSync(findTool('postconf'), ['-d', '-h', 'mail_version'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** Everything printed after the cases ran. */
function printReport(opts: Options, cases: CaseResult[]): void {
  const mode = opts.reconnect ? 'a new connection per message' : 'connections reused (-d)';
  console.log('');
  console.log(
    `LMTP delivery, smtp-source -L -s ${opts.sessions}, ${mode}, >= ${opts.seconds} s per case; ` +
      'MiB/s counts payload (-l) bytes; CPU % and peak RSS are of the server process (100 % = one core)',
  );
  if (opts.engines.includes('distributed')) {
    console.log('hermod = embedded engines (SQLite store, FTS5 search); hermod-dist = Cassandra store + ' +
      'Elasticsearch search (scripts/services, a fresh keyspace and index per case); same load, same checks');
  }
  if (opts.bayesTrain > 0) {
    console.log(`every hermod's Bayes filter was taught ${opts.bayesTrain} spam + ${opts.bayesTrain} ham first (--bayes-train): ` +
      'it classifies each message with token lookups (smtp-source bodies are short of tokens: see bench/bayes-training.ts)');
  }
  console.log(renderTable(cases));
  console.log('');
  for (const line of ratioLines(opts, cases)) console.log(line);
  for (const line of memoryLines(cases, opts.sessions)) console.log(line);
  for (const c of cases) {
    if (c.breakdown) {
      console.log('');
      for (const line of breakdownLines(caseName(c), c.breakdown, c.serverProcess?.cpuSeconds ?? null)) console.log(line);
    }
  }
  console.log('');
  console.log('sequential latency sample (1 LMTP connection, one message after another, no parallel load;');
  console.log('timed from MAIL FROM to the final reply; smtp-source itself reports no latency):');
  for (const c of cases) console.log(latencyLine(c));
  console.log('');
  for (const line of verificationLines(cases)) console.log(line);
  console.log(
    'uniqueness: smtp-source gives every message its own Date and Message-Id <pid.fd.counter@host> ' +
      '(new pid per batch), so Hermod\'s per-mailbox de-duplication of identical bytes merges none; ' +
      'one mailbox receives all load and "distinct messages" confirms it.',
  );
}

/** The ratio lines per size: one figure, or with --rounds each round's and their median. */
function ratioLines(opts: Options, cases: CaseResult[]): string[] {
  const show = (r: number | null) => (r === null ? 'n/a' : r.toFixed(2));
  const render = (ratioOf: (round: number) => number | null): string => {
    if (opts.rounds === 1) return show(ratioOf(1));
    const { perRound, median } = ratioOverRounds(opts.rounds, ratioOf);
    return median === null ? 'n/a' : `${show(median)} (median of rounds: ${perRound.map(show).join(', ')})`;
  };
  const lines: string[] = [];
  for (const size of opts.sizes) {
    const label = sizeLabel(size);
    lines.push(`${label} hermod/reference ratio: ${render((r) => ratioFor(cases, size, 'embedded', 'reference', r))} (goal >= ${GOALS.referenceRatio.toFixed(2)})`);
    lines.push(`${label} hermod/sink ratio: ${render((r) => ratioFor(cases, size, 'embedded', 'sink', r))}`);
    if (!opts.engines.includes('distributed')) continue;
    lines.push(`${label} hermod-dist/sink ratio: ${render((r) => ratioFor(cases, size, 'distributed', 'sink', r))}`);
    lines.push(`${label} distributed/embedded ratio (msgs/s): ${render((r) => engineRatio(cases, size, r))}`);
  }
  return lines;
}

/** Hermod's idle RSS (the first embedded case) and its peak RSS under the 4 KiB load, with the goals. */
function memoryLines(cases: CaseResult[], sessions: number): string[] {
  const embedded = cases.filter((c) => c.server === 'hermod' && (c.engine ?? 'embedded') === 'embedded' && !c.error);
  const idle = embedded.find((c) => c.idleRssMiB !== undefined)?.idleRssMiB;
  const loaded = embedded.find((c) => c.size === GOALS.peakRssSize)?.serverProcess;
  const peak = loaded ? Math.max(loaded.peakRssMiB, loaded.sampledPeakRssMiB) : undefined;
  const mib = (n: number | undefined) => (n === undefined ? 'n/a' : `${n.toFixed(1)} MiB`);
  return [
    `hermod idle RSS (fresh, before any message): ${mib(idle)} (goal < ${GOALS.idleRssMiB} MiB)`,
    `hermod peak RSS at ${sessions} sessions x ${sizeLabel(GOALS.peakRssSize)}: ${mib(peak)} (goal < ${GOALS.peakRssMiB} MiB)`,
  ];
}

/** True when something failed or did not add up (the only reasons for a non-zero exit). */
function anyProblem(cases: CaseResult[]): boolean {
  return cases.some(
    (c) =>
      c.error !== null ||
      (c.stored !== null && (c.stored.entries !== c.messages || c.stored.distinctMessages !== c.messages)),
  );
}

/** Writes bench/results/latest.json. */
function writeJson(opts: Options, cases: CaseResult[], startedAt: Date): string {
  const file = resolve('bench/results/latest.json');
  mkdirSync(dirname(file), { recursive: true });
  // One round: the ratio; several: the median of the rounds (each round's is in `cases`).
  const perSize = (ratioOf: (size: number, round: number) => number | null) =>
    Object.fromEntries(opts.sizes.map((s) => [sizeLabel(s), ratioOverRounds(opts.rounds, (r) => ratioOf(s, r)).median]));
  const ratios = perSize((s, r) => ratioFor(cases, s, 'embedded', 'sink', r));
  const referenceRatios = perSize((s, r) => ratioFor(cases, s, 'embedded', 'reference', r));
  const distributed = opts.engines.includes('distributed')
    ? {
        distributedToSinkRatio: perSize((s, r) => ratioFor(cases, s, 'distributed', 'sink', r)),
        distributedToEmbeddedRatio: perSize((s, r) => engineRatio(cases, s, r)),
      }
    : {};
  const doc = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    options: { ...opts, servers: [...opts.servers] },
    environment: {
      node: process.version,
      postfix: postfixVersion(),
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryMiB: Math.round(totalmem() / 1024 / 1024),
    },
    cases,
    hermodToSinkRatio: ratios,
    hermodToReferenceRatio: referenceRatios,
    ...distributed,
  };
  writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
  return file;
}

/** Runs all cases in order: per size, Hermod then sink. */
async function main(): Promise<void> {
  // --large: the memory case of large messages (large-run.ts), on its own.
  if (process.argv.includes('--large')) return void (process.exitCode = (await runLargeBench()) ? 1 : 0);
  const opts = parseOptions(process.argv.slice(2));
  const startedAt = new Date();
  const settings: RunSettings = { ...opts, log: (line) => console.error(line) };
  const engines: EngineProfile[] = opts.sinkOnly ? [] : engineProfiles(opts.engines, settings.log);
  const cases: CaseResult[] = [];
  for (const size of opts.sizes) {
    for (let round = 1; round <= opts.rounds; round++) {
      const numbered = (c: CaseResult): CaseResult => (opts.rounds > 1 ? { ...c, round } : c);
      const of = opts.rounds > 1 ? ` (round ${round} of ${opts.rounds})` : '';
      for (const engine of opts.servers.has('hermod') ? engines : []) {
        console.error(`hermod ${sizeLabel(size)}${of}: starting a fresh Hermod (${engine.describe})`);
        cases.push(numbered(await runHermodCase(size, settings, engine)));
      }
      if (opts.servers.has('reference') && !opts.sinkOnly) {
        console.error(`reference ${sizeLabel(size)}${of}: starting the bare durable reference`);
        cases.push(numbered(await runReferenceCase(size, settings)));
      }
      if (opts.servers.has('sink')) {
        console.error(`sink ${sizeLabel(size)}${of}: starting smtp-sink -L`);
        cases.push(numbered(await runSinkCase(size, settings)));
      }
    }
  }
  printReport(opts, cases);
  console.log(`results: ${writeJson(opts, cases, startedAt)}`);
  if (anyProblem(cases)) process.exitCode = 1;
}

// --nodes is its own bench (several nodes behind HAProxy): bench/nodes-run.ts.
const entry = process.argv.includes('--nodes')
  ? import('./nodes-run.js').then((m) => m.runNodesBench(process.argv.slice(2)))
  : main();
entry.catch((err: unknown) => {
  console.error(`bench: ${(err as Error).message ?? String(err)}`);
  process.exitCode = 2;
});
