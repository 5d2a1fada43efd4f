/**
 * Result types of a benchmark run and their plain-text rendering (table, ratios, latency lines).
 */
import type { ProcessStats } from './process-stats.js';
import type { LatencySample } from './latency.js';
import type { DistributedBreakdown } from './distributed-stats.js';

/** One row: one server at one message size. */
export interface CaseResult {
  /** "hermod", "reference" (bench/reference-server.ts) or "sink". */
  server: 'hermod' | 'reference' | 'sink';
  /** Hermod only: the storage engines it ran on (absent means embedded, as before --engines). */
  engine?: 'embedded' | 'distributed';
  /** Payload bytes per message (smtp-source -l). */
  size: number;
  protocol: 'LMTP' | 'SMTP';
  messages: number;
  seconds: number;
  msgsPerSecond: number;
  /** Payload bytes only (smtp-source adds about 150 bytes of headers per message). */
  payloadMiBPerSecond: number;
  /** Hermod only: RSS of the fresh server, started and idle, before any message. */
  idleRssMiB?: number;
  /** CPU and memory of the server process during the load window. */
  serverProcess: ProcessStats | null;
  /** Hermod only: entries found in the store after the run, and distinct messages among them. */
  stored: { entries: number; distinctMessages: number } | null;
  /** Hermod only: entries stored for the latency sample's own mailbox. */
  storedLatencyEntries: number | null;
  latency: LatencySample | null;
  /** Why the latency figures are missing, when they are. */
  latencyNote: string | null;
  /** smtp-source command line (last batch). */
  command: string;
  batches: number;
  /** Set when the case could not run; the numbers are then zero. */
  error: string | null;
  /** Distributed cases: what Cassandra and Elasticsearch did per delivery (distributed-stats.ts). */
  breakdown?: DistributedBreakdown;
  /** With --rounds N (N > 1): which round of the interleaved runs this case belongs to, from 1. */
  round?: number;
}

/** Human name for a size: 4096 → "4KiB". */
export function sizeLabel(size: number): string {
  if (size % (1024 * 1024) === 0) return `${size / (1024 * 1024)}MiB`;
  if (size % 1024 === 0) return `${size / 1024}KiB`;
  return `${size}B`;
}

/** Fixed-point number, or "n/a" when not finite. */
function fmt(n: number | undefined | null, digits: number): string {
  return n === undefined || n === null || !Number.isFinite(n) ? 'n/a' : n.toFixed(digits);
}

/** `hermod 4KiB`, `hermod-dist 4KiB`, `sink 4KiB`. */
export function caseName(c: CaseResult): string {
  const server = c.server === 'hermod' && c.engine === 'distributed' ? 'hermod-dist' : c.server;
  return `${server} ${sizeLabel(c.size)}${c.round === undefined ? '' : ` #${c.round}`}`;
}

/** The cells of one table row. */
function rowCells(c: CaseResult): string[] {
  const name = caseName(c);
  if (c.error) return [name, c.protocol, 'ERROR', '', '', '', '', '', '', ''];
  const p = c.serverProcess;
  const stored = c.stored ? `${c.stored.entries}/${c.messages}` : '-';
  return [
    name,
    c.protocol,
    String(c.messages),
    fmt(c.seconds, 2),
    fmt(c.msgsPerSecond, 1),
    fmt(c.payloadMiBPerSecond, 2),
    fmt(p?.cpuPercent, 0),
    fmt(cpuMsPerMessage(c), 2),
    fmt(p ? Math.max(p.peakRssMiB, p.sampledPeakRssMiB) : null, 1),
    stored,
  ];
}

/** Renders rows as an aligned plain-text table. */
export function renderTable(cases: CaseResult[]): string {
  const header = ['case', 'proto', 'messages', 'seconds', 'msgs/s', 'MiB/s', 'CPU %', 'CPU ms/msg', 'peak RSS MiB', 'stored/sent'];
  const rows = [header, ...cases.map(rowCells)];
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]): string =>
    r.map((cell, i) => (i === 0 || i === 1 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...rows.slice(1).map(line)].join('\n');
}

/**
 * The server's CPU time per message of the load window (ms). Unlike msgs/s it hardly moves with
 * what else the shared machine is doing, so it is the figure to compare across runs.
 */
export function cpuMsPerMessage(c: CaseResult): number | null {
  if (!c.serverProcess || c.messages <= 0) return null;
  return (c.serverProcess.cpuSeconds * 1000) / c.messages;
}

/** Whether a case is of the given round (a run without --rounds has one round, numbered 1). */
const inRound = (c: CaseResult, round: number) => (c.round ?? 1) === round;

/** Hermod msgs/s divided by sink (or reference) msgs/s for one size and round, or null when either is missing. */
export function ratioFor(
  cases: CaseResult[],
  size: number,
  engine: 'embedded' | 'distributed' = 'embedded',
  against: 'sink' | 'reference' = 'sink',
  round = 1,
): number | null {
  const h = cases.find((c) => c.server === 'hermod' && (c.engine ?? 'embedded') === engine && c.size === size && inRound(c, round) && !c.error);
  const s = cases.find((c) => c.server === against && c.size === size && inRound(c, round) && !c.error);
  if (!h || !s || s.msgsPerSecond <= 0) return null;
  return h.msgsPerSecond / s.msgsPerSecond;
}

/** Distributed Hermod msgs/s divided by embedded Hermod msgs/s for one size and round, or null. */
export function engineRatio(cases: CaseResult[], size: number, round = 1): number | null {
  const pick = (engine: string) =>
    cases.find((c) => c.server === 'hermod' && (c.engine ?? 'embedded') === engine && c.size === size && inRound(c, round) && !c.error);
  const embedded = pick('embedded');
  const distributed = pick('distributed');
  if (!embedded || !distributed || embedded.msgsPerSecond <= 0) return null;
  return distributed.msgsPerSecond / embedded.msgsPerSecond;
}

/** A ratio taken in every round, and their median (null when no round had both cases). */
export interface RoundRatios {
  perRound: (number | null)[];
  median: number | null;
}

/** Applies `ratioOf` to rounds 1..rounds and takes the median of those that could be computed. */
export function ratioOverRounds(rounds: number, ratioOf: (round: number) => number | null): RoundRatios {
  const perRound = Array.from({ length: rounds }, (_, i) => ratioOf(i + 1));
  const known = perRound.filter((r): r is number => r !== null).sort((a, b) => a - b);
  if (known.length === 0) return { perRound, median: null };
  const mid = Math.floor(known.length / 2);
  const median = known.length % 2 === 1 ? known[mid] : (known[mid - 1] + known[mid]) / 2;
  return { perRound, median };
}

/** One "sequential latency sample" line for a case. */
export function latencyLine(c: CaseResult): string {
  const name = caseName(c).padEnd(18);
  if (!c.latency) return `  ${name} p50 n/a  p99 n/a  (${c.latencyNote ?? 'not measured'})`;
  const l = c.latency;
  return `  ${name} p50 ${fmt(l.p50Ms, 2)} ms  p99 ${fmt(l.p99Ms, 2)} ms  max ${fmt(l.maxMs, 2)} ms  (${l.messages} msgs)`;
}

/** Lines about errors and store verification, printed under the table. */
export function verificationLines(cases: CaseResult[]): string[] {
  const out: string[] = [];
  for (const c of cases) {
    const name = caseName(c);
    if (c.error) out.push(`${name}: ERROR ${c.error}`);
    else if (c.stored) {
      const ok = c.stored.entries === c.messages && c.stored.distinctMessages === c.messages;
      out.push(
        `${name}: sent ${c.messages}, stored ${c.stored.entries} entries, ${c.stored.distinctMessages} distinct messages` +
          (ok ? ' (all stored)' : ' (MISMATCH)'),
      );
      if (c.latency && c.storedLatencyEntries !== null) {
        const lok = c.storedLatencyEntries === c.latency.messages ? 'all stored' : 'MISMATCH';
        out.push(`${name}: latency sample sent ${c.latency.messages}, stored ${c.storedLatencyEntries} (${lok})`);
      }
    }
  }
  return out;
}
