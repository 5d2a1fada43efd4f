/**
 * The two kinds of benchmark case: a fresh Hermod under smtp-source load, and smtp-sink under the
 * identical load as the protocol ceiling. Each returns a CaseResult; failures become an `error`
 * on the row instead of aborting the whole run.
 */
import { trainBayes } from './bayes-training.js';
import { sampleServers, subtractStatements } from './distributed-stats.js';
import type { EngineProfile } from './engines.js';
import { LATENCY_MAILBOX, LOAD_MAILBOX, WARMUP_MAILBOX, countStored, removeDir, startHermod, type HermodHandle } from './hermod-process.js';
import { sampleLatency, type LatencySample } from './latency.js';
import { ProcessSampler, statusMiB, type ProcessStats } from './process-stats.js';
import { startReference } from './reference.js';
import type { CaseResult } from './report.js';
import { startSink } from './sink.js';
import { runBatch, runForDuration, type SourceOptions, type SourceResult } from './smtp-source.js';

/** Settings shared by all cases of one run. */
export interface RunSettings {
  seconds: number;
  sessions: number;
  /** Messages in each sequential latency sample; 0 skips the sample. */
  latencyCount: number;
  /**
   * Messages sent to each fresh Hermod before the measured window (to its own mailbox), so
   * one-time costs — statement preparation, index creation, JIT — count for no engine.
   */
  warmup: number;
  /** smtp-source reconnects per message instead of reusing connections (-d). */
  reconnect: boolean;
  /** Keep Hermod's temp dirs (data and log) instead of deleting them. */
  keep: boolean;
  /** Spam and ham messages (each) taught to every Hermod before its warm-up; 0: untrained. */
  bayesTrain: number;
  /** Progress lines go here. */
  log: (line: string) => void;
}

/** The embedded default: no config lines, nothing to clean up on shared servers. */
const EMBEDDED: EngineProfile = { name: 'embedded', describe: 'embedded', configLines: () => [], cleanup: async () => undefined };

/** How long a fresh Hermod sits after its greeting before its idle RSS is read (start-up work settles). */
const IDLE_SETTLE_MS = 2000;

/** How long a distributed case waits after its load for the indexer to drain (its statements count too). */
const INDEXER_GRACE_MS = 3000;

/** Envelope sender of all bench traffic. */
export const BENCH_SENDER = 'load@bench.source.test';

/** A row with zeroed figures and an error. */
function failed(server: CaseResult['server'], size: number, err: unknown): CaseResult {
  return {
    server,
    size,
    protocol: 'LMTP',
    messages: 0,
    seconds: 0,
    msgsPerSecond: 0,
    payloadMiBPerSecond: 0,
    serverProcess: null,
    stored: null,
    storedLatencyEntries: null,
    latency: null,
    latencyNote: null,
    command: '',
    batches: 0,
    error: (err as Error).message ?? String(err),
  };
}

/** smtp-source settings of a case's load towards one mailbox. */
function sourceOptions(target: { host: string; port: number }, size: number, s: RunSettings, to: string): SourceOptions {
  return {
    host: target.host,
    port: target.port,
    lmtp: true,
    sessions: s.sessions,
    size,
    from: BENCH_SENDER,
    to,
    seconds: s.seconds,
    reuseConnections: !s.reconnect,
  };
}

/** Runs the smtp-source load against host:port while sampling the server process. */
async function loadWithStats(
  server: string,
  target: { host: string; port: number; pid: number },
  size: number,
  s: RunSettings,
): Promise<{ load: SourceResult; stats: ProcessStats }> {
  const sampler = new ProcessSampler(target.pid);
  const load = await runForDuration({
    ...sourceOptions(target, size, s, LOAD_MAILBOX),
    onBatch: (b, total, elapsed) =>
      s.log(`  ${server}: batch of ${b.messages} in ${b.seconds.toFixed(2)} s (total ${total}, ${elapsed.toFixed(1)} s)`),
  });
  return { load, stats: sampler.stop() };
}

/** The latency sample, or the reason it is missing. */
async function latencyOrNote(
  target: { host: string; port: number },
  size: number,
  s: RunSettings,
): Promise<{ latency: LatencySample | null; note: string | null }> {
  if (s.latencyCount <= 0) return { latency: null, note: 'skipped (--latency-count 0)' };
  try {
    const latency = await sampleLatency({ ...target, from: BENCH_SENDER, to: LATENCY_MAILBOX, size, count: s.latencyCount });
    return { latency, note: null };
  } catch (err) {
    return { latency: null, note: `failed: ${(err as Error).message}` };
  }
}

/** Builds a successful row from the measured parts. */
function row(
  server: CaseResult['server'],
  size: number,
  load: SourceResult,
  stats: ProcessStats,
  lat: { latency: LatencySample | null; note: string | null },
): CaseResult {
  return {
    server,
    size,
    protocol: 'LMTP',
    messages: load.messages,
    seconds: load.seconds,
    msgsPerSecond: load.messages / load.seconds,
    payloadMiBPerSecond: (load.messages * size) / (1024 * 1024) / load.seconds,
    serverProcess: stats,
    stored: null,
    storedLatencyEntries: null,
    latency: lat.latency,
    latencyNote: lat.note,
    command: load.command,
    batches: load.batches.length,
    error: null,
  };
}

/**
 * A fresh Hermod (new temp dir; on `engine`'s servers, in a new keyspace and index) under load at
 * one size, then the latency sample, then SIGTERM, then the store is opened to count what was
 * stored for the load and the latency mailboxes.
 */
export async function runHermodCase(size: number, s: RunSettings, engine: EngineProfile = EMBEDDED): Promise<CaseResult> {
  let hermod: HermodHandle | null = null;
  const label = engine.name === 'embedded' ? 'hermod' : 'hermod-dist';
  const tagged = (result: CaseResult): CaseResult => (engine.name === 'embedded' ? result : { ...result, engine: engine.name });
  try {
    hermod = await startHermod(s.sessions, engine.configLines());
    s.log(`  ${label}: pid ${hermod.pid}, LMTP ${hermod.host}:${hermod.port}, dir ${hermod.dir}`);
    await new Promise((r) => setTimeout(r, IDLE_SETTLE_MS));
    const idleRssMiB = statusMiB(hermod.pid, 'VmRSS');
    if (s.bayesTrain > 0) {
      const started = Date.now();
      await trainBayes(hermod.configFile, hermod.dir, s.bayesTrain);
      s.log(`  ${label}: Bayes taught ${s.bayesTrain} spam + ${s.bayesTrain} ham in ${((Date.now() - started) / 1000).toFixed(1)} s (not measured)`);
    }
    // Statements made before the deliveries (provisioning, training) are not theirs.
    const before = engine.serverStats ? (await engine.serverStats()).tables : [];
    if (s.warmup > 0) {
      const warm = await runBatch(sourceOptions(hermod, size, s, WARMUP_MAILBOX), s.warmup);
      s.log(`  ${label}: warm-up of ${warm.messages} in ${warm.seconds.toFixed(2)} s (not measured)`);
    }
    const servers = engine.serverStats ? sampleServers() : null;
    const probe = engine.probe ? await engine.probe() : null;
    const { load, stats } = await loadWithStats(label, hermod, size, s);
    const serverCpu = servers?.();
    const roundTrips = probe ? await probe() : null;
    const lat = await latencyOrNote(hermod, size, s);
    // Let the indexer catch up, so its share of the statements is in the breakdown.
    if (engine.serverStats) await new Promise((r) => setTimeout(r, INDEXER_GRACE_MS));
    const code = await hermod.stop();
    if (code !== 0) s.log(`  ${label}: exited with code ${code} after SIGTERM\n${hermod.logTail()}`);
    const counts = await countStored(hermod.configFile, [LOAD_MAILBOX, LATENCY_MAILBOX, WARMUP_MAILBOX]);
    const result = row('hermod', size, load, stats, lat);
    result.idleRssMiB = idleRssMiB;
    result.stored = counts[LOAD_MAILBOX];
    result.storedLatencyEntries = counts[LATENCY_MAILBOX].entries;
    if (engine.serverStats && serverCpu) {
      const deliveries = [LOAD_MAILBOX, LATENCY_MAILBOX, WARMUP_MAILBOX].reduce((n, box) => n + counts[box].entries, 0);
      const after = await engine.serverStats();
      const tables = subtractStatements(after.tables, before);
      result.breakdown = { deliveries, loadMessages: load.messages, cpu: serverCpu, probe: roundTrips, ...after, tables };
    }
    return tagged(result);
  } catch (err) {
    if (hermod) {
      s.log(`  ${label} log tail:\n${hermod.logTail()}`);
      await hermod.stop().catch(() => undefined);
    }
    return tagged(failed('hermod', size, err));
  } finally {
    if (hermod && !s.keep) removeDir(hermod.dir);
    if (!s.keep) await engine.cleanup();
  }
}

/** smtp-sink (LMTP) under the identical load at one size, then the same latency sample. */
export async function runSinkCase(size: number, s: RunSettings): Promise<CaseResult> {
  try {
    const sink = await startSink(Math.max(256, s.sessions * 2));
    try {
      s.log(`  sink: pid ${sink.pid}, LMTP ${sink.host}:${sink.port}`);
      const { load, stats } = await loadWithStats('sink', sink, size, s);
      const lat = await latencyOrNote(sink, size, s);
      return row('sink', size, load, stats, lat);
    } finally {
      await sink.stop();
    }
  } catch (err) {
    return failed('sink', size, err);
  }
}

/**
 * The bare durable reference (smtp-server LMTP + simpleParser + one fsync'd file per message)
 * under the identical load; its file count after the run is checked like Hermod's store.
 */
export async function runReferenceCase(size: number, s: RunSettings): Promise<CaseResult> {
  try {
    const ref = await startReference();
    try {
      s.log(`  reference: pid ${ref.pid}, LMTP ${ref.host}:${ref.port}`);
      const { load, stats } = await loadWithStats('reference', ref, size, s);
      const lat = await latencyOrNote(ref, size, s);
      const result = row('reference', size, load, stats, lat);
      const files = ref.stored() - (lat.latency?.messages ?? 0);
      result.stored = { entries: files, distinctMessages: files };
      return result;
    } finally {
      await ref.stop();
    }
  } catch (err) {
    return failed('reference', size, err);
  }
}
