/**
 * `npm run bench`: LMTP delivery throughput of a fresh Hermod on the embedded default, driven by
 * Postfix's smtp-source, against Postfix's smtp-sink under the identical load as the ceiling.
 *
 * Usage: npm run bench -- [--seconds 10] [--sessions 20] [--sizes 4096,65536]
 *                         [--latency-count 200] [--reconnect] [--keep] [--sink-only]
 *                         [--engines embedded|distributed] [--warmup 200]
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
import { runHermodCase, runSinkCase, type RunSettings } from './cases.js';
import { engineProfiles, parseEngines, type EngineName, type EngineProfile } from './engines.js';
import { breakdownLines } from './distributed-stats.js';
import { caseName, engineRatio, latencyLine, ratioFor, renderTable, sizeLabel, verificationLines, type CaseResult } from './report.js';
import { findTool } from './net-util.js';
import { runLargeBench } from './large-run.js';

/** Parsed command line. */
interface Options extends Omit<RunSettings, 'log'> {
  sizes: number[];
  sinkOnly: boolean;
  engines: EngineName[];
}

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
    reconnect: values.reconnect ?? false,
    keep: values.keep ?? false,
    sinkOnly: values['sink-only'] ?? false,
    engines: parseEngines(values.engines),
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
  console.log(renderTable(cases));
  console.log('');
  const show = (r: number | null) => (r === null ? 'n/a' : r.toFixed(2));
  for (const size of opts.sizes) {
    console.log(`${sizeLabel(size)} hermod/sink ratio: ${show(ratioFor(cases, size))}`);
    if (!opts.engines.includes('distributed')) continue;
    console.log(`${sizeLabel(size)} hermod-dist/sink ratio: ${show(ratioFor(cases, size, 'distributed'))}`);
    console.log(`${sizeLabel(size)} distributed/embedded ratio (msgs/s): ${show(engineRatio(cases, size))}`);
  }
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
  const ratios = Object.fromEntries(opts.sizes.map((s) => [sizeLabel(s), ratioFor(cases, s)]));
  const distributed = opts.engines.includes('distributed')
    ? {
        distributedToSinkRatio: Object.fromEntries(opts.sizes.map((s) => [sizeLabel(s), ratioFor(cases, s, 'distributed')])),
        distributedToEmbeddedRatio: Object.fromEntries(opts.sizes.map((s) => [sizeLabel(s), engineRatio(cases, s)])),
      }
    : {};
  const doc = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    options: opts,
    environment: {
      node: process.version,
      postfix: postfixVersion(),
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryMiB: Math.round(totalmem() / 1024 / 1024),
    },
    cases,
    hermodToSinkRatio: ratios,
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
    for (const engine of engines) {
      console.error(`hermod ${sizeLabel(size)}: starting a fresh Hermod (${engine.describe})`);
      cases.push(await runHermodCase(size, settings, engine));
    }
    console.error(`sink ${sizeLabel(size)}: starting smtp-sink -L`);
    cases.push(await runSinkCase(size, settings));
  }
  printReport(opts, cases);
  console.log(`results: ${writeJson(opts, cases, startedAt)}`);
  if (anyProblem(cases)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(`bench: ${(err as Error).message ?? String(err)}`);
  process.exitCode = 2;
});
