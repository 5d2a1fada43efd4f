/**
 * `npm run bench:queue`: Hermod's outbound path against a private Postfix, in the same run, on
 * the same load (distinct messages, distinct recipients, `--size` bytes) into the same kind of
 * sink (Postfix's smtp-sink, counting what it receives).
 *
 * Usage: npm run bench:queue -- [--messages 2000] [--size 4096] [--workers 20] [--rounds 1] [--redis URL]
 *
 * Two comparisons, each for both queue drivers (SQLite; BullMQ on Redis under a fresh prefix):
 * - delivery: the queue already holds every message when the clock starts. Postfix: smtpd put
 *   each message on hold (an access HOLD action) and the clock starts at `postsuper -H ALL` +
 *   `postqueue -f`. Hermod: messages are queued with the delivery worker stopped, and the clock
 *   starts when it starts. Both stop when the sink has counted every message.
 * - full path: smtp-source (`-N -d -s workers`) into Postfix's smtpd, or into Hermod's
 *   submission listener (trusted network, no AUTH), until the sink has counted every message.
 * Hermod runs smarthost mode (`relay.host` = the sink), `workers` delivery slots and the same
 * per-destination concurrency; Postfix gets that number as its destination concurrency limit.
 * The private Postfix (see postfix-instance.ts) needs root; it is stopped and removed at the end,
 * also when a run fails. BENCH_NO_REUSE=1 turns Hermod's connection cache off. With `--rounds N`
 * the six runs are repeated N times (the machine's load drifts between runs) and the median of
 * each round's ratio is printed as well.
 * Exit code: 1 when a run failed or lost a message, 2 when the harness itself failed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { postfixVersion, stopAllPostfix } from './postfix-instance.js';
import { runHermod, runPostfix, type QueueBenchOptions, type RunResult } from './queue-cases.js';

function parseOptions(): QueueBenchOptions & { rounds: number } {
  const { values } = parseArgs({
    options: { messages: { type: 'string' }, size: { type: 'string' }, workers: { type: 'string' }, rounds: { type: 'string' }, redis: { type: 'string' } },
    strict: true,
  });
  const int = (v: string | undefined, d: number) => (v === undefined ? d : Math.max(1, Math.floor(Number(v))));
  return {
    messages: int(values.messages, 2000),
    size: int(values.size, 4096),
    workers: int(values.workers, 20),
    rounds: int(values.rounds, 1),
    redis: values.redis ?? process.env.HERMOD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6390',
  };
}

function line(r: RunResult, reference?: RunResult): string {
  const ratio = reference && reference.msgsPerSecond > 0 && r.msgsPerSecond > 0 ? (r.msgsPerSecond / reference.msgsPerSecond).toFixed(2) + '×' : '';
  return `${r.name.padEnd(26)}${r.msgsPerSecond.toFixed(1).padStart(10)}${r.seconds.toFixed(2).padStart(10)}${String(r.delivered).padStart(11)}${ratio.padStart(10)}  ${r.error ?? '-'}`;
}

type Comparison = 'sqliteDelivery' | 'bullmqDelivery' | 'sqliteFullPath' | 'bullmqFullPath';

/** The six runs of one round: each Postfix run first, Hermod's right after, on the same load. */
async function round(opts: QueueBenchOptions, label: string): Promise<{ results: RunResult[]; ratios: Record<Comparison, number | null> }> {
  const results: RunResult[] = [];
  const step = async (name: string, run: () => Promise<RunResult>): Promise<RunResult> => {
    console.error(`${label}${name}: ${opts.messages} messages…`);
    const r = await run();
    results.push(r);
    return r;
  };
  const pfDelivery = await step('postfix delivery', () => runPostfix(false, opts));
  const sqliteDelivery = await step('hermod sqlite delivery', () => runHermod('sqlite', false, opts));
  const bullmqDelivery = await step('hermod bullmq delivery', () => runHermod('bullmq', false, opts));
  const pfFull = await step('postfix full path', () => runPostfix(true, opts));
  const sqliteFull = await step('hermod sqlite full path', () => runHermod('sqlite', true, opts));
  const bullmqFull = await step('hermod bullmq full path', () => runHermod('bullmq', true, opts));
  console.log('');
  console.log(`${label}${opts.messages} distinct messages of ${opts.size} B into smtp-sink, ${opts.workers} workers / destination concurrency, ${cpus().length} CPUs, load ${loadavg()[0].toFixed(2)}`);
  console.log(`${'run'.padEnd(26)}${'msgs/s'.padStart(10)}${'seconds'.padStart(10)}${'delivered'.padStart(11)}${'/postfix'.padStart(10)}  error`);
  for (const [r, ref] of [[pfDelivery], [sqliteDelivery, pfDelivery], [bullmqDelivery, pfDelivery], [pfFull], [sqliteFull, pfFull], [bullmqFull, pfFull]] as const) {
    console.log(line(r, ref));
  }
  const ratio = (a: RunResult, b: RunResult) => (a.msgsPerSecond > 0 && b.msgsPerSecond > 0 ? Number((a.msgsPerSecond / b.msgsPerSecond).toFixed(3)) : null);
  return {
    results,
    ratios: {
      sqliteDelivery: ratio(sqliteDelivery, pfDelivery),
      bullmqDelivery: ratio(bullmqDelivery, pfDelivery),
      sqliteFullPath: ratio(sqliteFull, pfFull),
      bullmqFullPath: ratio(bullmqFull, pfFull),
    },
  };
}

function median(values: (number | null)[]): number | null {
  if (values.some((v) => v === null)) return null;
  const sorted = (values as number[]).slice().sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : Number(((sorted[mid - 1] + sorted[mid]) / 2).toFixed(3));
}

async function main(): Promise<void> {
  const opts = parseOptions();
  const version = await postfixVersion();
  if (!version) throw new Error('Postfix is not installed (sudo scripts/install-system-deps.sh)');
  console.log(`Postfix ${version}`);
  const rounds: Awaited<ReturnType<typeof round>>[] = [];
  for (let i = 1; i <= opts.rounds; i++) rounds.push(await round(opts, opts.rounds > 1 ? `[round ${i}/${opts.rounds}] ` : ''));
  const names: Comparison[] = ['sqliteDelivery', 'bullmqDelivery', 'sqliteFullPath', 'bullmqFullPath'];
  const medians = Object.fromEntries(names.map((n) => [n, median(rounds.map((r) => r.ratios[n]))])) as Record<Comparison, number | null>;
  console.log('');
  console.log(`Hermod/Postfix, median of ${opts.rounds} round(s): ${names.map((n) => `${n} ${medians[n]?.toFixed(2) ?? 'n/a'}×`).join(', ')}`);
  const results = rounds.flatMap((r) => r.results);
  const file = resolve('bench/results/queue-latest.json');
  mkdirSync(dirname(file), { recursive: true });
  const record = { at: new Date().toISOString(), node: process.version, postfix: version, cpus: cpus().length, load: loadavg(), options: { ...opts, redis: undefined }, rounds, medians };
  writeFileSync(file, JSON.stringify(record, null, 2) + '\n');
  console.log(`results: ${file}`);
  if (results.some((r) => r.error !== null || r.delivered !== opts.messages)) process.exitCode = 1;
}

// Interrupted (Ctrl-C): the private Postfix must not outlive the benchmark.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`bench:queue: ${signal}, stopping the private Postfix`);
    void stopAllPostfix().finally(() => process.exit(130));
  });
}

main().catch((err: unknown) => {
  console.error(`bench:queue: ${(err as Error).message}`);
  process.exitCode = 2;
});
