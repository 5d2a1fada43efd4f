/**
 * `npm run bench -- --engines distributed --nodes 1,2,3`: LMTP throughput of 1, 2, 3 … Hermod
 * nodes on the distributed engines behind HAProxy, with the CPU of every process involved.
 *
 * Per node count: a fresh keyspace and index (engines.ts); node 1 provisions the bench domain,
 * the others share it; every node honours PROXY headers from 127.0.0.1 (not required: the
 * start-up check greets a node directly). HAProxy
 * (its own temporary config: leastconn, send-proxy-v2, the LMTP health check of
 * haproxy/haproxy.cfg) listens on a free port and takes the smtp-source load. The window is
 * measured once every node is UP in HAProxy and after an unmeasured warm-up. Then every node
 * stops and the store is counted: entries == sent, or the run exits non-zero.
 *
 * CPU is utime + stime from /proc of each node, HAProxy, Cassandra and Elasticsearch over the load
 * window (100 % = one core). The machine's cores are shared by all of them and by whatever else
 * runs, so this measures how the work divides, not how a cluster of real machines would scale.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_SENDER } from './cases.js';
import { sampleServers, type DistributedBreakdown } from './distributed-stats.js';
import { engineProfiles, type EngineProfile } from './engines.js';
import { countStored, LOAD_MAILBOX, removeDir, startHermod, WARMUP_MAILBOX, type HermodHandle } from './hermod-process.js';
import { findTool, freePort, sleep, stopChild, waitForGreeting } from './net-util.js';
import { ProcessSampler, type ProcessStats } from './process-stats.js';
import { sizeLabel } from './report.js';
import { runBatch, runForDuration, type SourceOptions } from './smtp-source.js';

/** Parsed command line of the nodes bench. */
interface NodesOptions {
  nodes: number[];
  seconds: number;
  sessions: number;
  size: number;
  warmup: number;
  keep: boolean;
}

/** What one node count measured. */
interface NodesResult {
  nodes: number;
  messages: number;
  seconds: number;
  msgsPerSecond: number;
  hermod: ProcessStats[];
  haproxy: ProcessStats | null;
  servers: DistributedBreakdown['cpu'];
  storedEntries: number;
  /** Every process on the machine (/proc/stat), 100 % = one core: the share others took shows here. */
  machineBusyPercent: number | null;
  error: string | null;
}

/** Busy and total jiffies of all cores from /proc/stat (busy = all but idle and iowait). */
function machineJiffies(): { busy: number; total: number } | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    return { busy: total - fields[3] - fields[4], total };
  } catch {
    return null;
  }
}

/** Starts measuring the whole machine; the result gives busy % (100 % = one core). */
function sampleMachine(): () => number | null {
  const start = machineJiffies();
  return () => {
    const end = machineJiffies();
    if (!start || !end || end.total === start.total) return null;
    return ((end.busy - start.busy) / (end.total - start.total)) * cpus().length * 100;
  };
}

const LIMIT = 16;

function positiveList(name: string, raw: string): number[] {
  const out = raw.split(',').map((s) => Number(s.trim()));
  if (out.length === 0 || out.some((n) => !Number.isInteger(n) || n < 1 || n > LIMIT)) {
    throw new Error(`--${name} must list integers from 1 to ${LIMIT}, comma-separated, got ${raw}`);
  }
  return out;
}

/** A non-negative (or, unless allowZero, positive) integer flag, or a usage error naming it. */
function count(name: string, raw: string | undefined, fallback: number, allowZero = false): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) throw new Error(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${raw}`);
  return n;
}

/** Parses the nodes bench's flags (the same names as the main bench where they mean the same). */
export function parseNodesOptions(argv: string[]): NodesOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      nodes: { type: 'string' },
      engines: { type: 'string' },
      seconds: { type: 'string' },
      sessions: { type: 'string' },
      sizes: { type: 'string' },
      warmup: { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.engines !== undefined && values.engines.trim() !== 'distributed') {
    throw new Error(`--nodes runs the distributed engines only (--engines distributed), got --engines ${values.engines}`);
  }
  const sizes = values.sizes === undefined ? [4096] : values.sizes.split(',').map((s) => Number(s.trim()));
  if (sizes.length !== 1 || !Number.isInteger(sizes[0]) || sizes[0] < 1) {
    throw new Error(`--sizes with --nodes takes one positive size in bytes, got ${values.sizes}`);
  }
  return {
    nodes: positiveList('nodes', values.nodes ?? '1,2,3'),
    seconds: count('seconds', values.seconds, 10),
    sessions: count('sessions', values.sessions, 20),
    size: sizes[0],
    warmup: count('warmup', values.warmup, 200, true),
    keep: values.keep ?? false,
  };
}

/** HAProxy's config: one LMTP frontend, every node behind it with PROXY v2 and an LMTP check. */
function haproxyConfig(dir: string, port: number, nodes: HermodHandle[]): string {
  const file = join(dir, 'haproxy.cfg');
  const lines = [
    'global',
    '    maxconn 4096',
    `    stats socket ${join(dir, 'admin.sock')} mode 600 level admin`,
    'defaults',
    '    mode tcp',
    '    timeout connect 5s',
    '    timeout client 10m',
    '    timeout server 10m',
    '    timeout check 5s',
    '    retries 3',
    '    option redispatch 1',
    '    default-server inter 500ms fall 2 rise 1',
    'frontend lmtp_in',
    `    bind 127.0.0.1:${port}`,
    '    default_backend hermod_lmtp',
    'backend hermod_lmtp',
    '    balance leastconn',
    '    option tcp-check',
    '    tcp-check connect send-proxy',
    '    tcp-check expect rstring "^220[ -]"',
    '    tcp-check send "LHLO haproxy-check.invalid\\r\\n"',
    '    tcp-check expect rstring "^250[ -]"',
    '    tcp-check send "QUIT\\r\\n"',
    '    tcp-check expect rstring "^221[ -]"',
    ...nodes.map((n, i) => `    server node${i + 1} ${n.host}:${n.port} check send-proxy-v2`),
    '',
  ];
  writeFileSync(file, lines.join('\n'));
  return file;
}

/** One command on HAProxy's runtime API socket; resolves with its whole answer. */
function haproxyCommand(socketPath: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const socket = connect(socketPath, () => socket.end(`${command}\n`));
    socket.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    socket.on('end', () => resolve(out));
    socket.on('error', reject);
  });
}

/** Waits until HAProxy reports every server of the backend UP. */
async function waitAllUp(socketPath: string, count: number, haproxy: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  let last = '';
  while (Date.now() < deadline) {
    if (haproxy.exitCode !== null) throw new Error(`haproxy exited with code ${haproxy.exitCode}`);
    try {
      const rows = (await haproxyCommand(socketPath, 'show stat')).split('\n').filter((l) => l.startsWith('hermod_lmtp,node'));
      last = rows.map((r) => `${r.split(',')[1]}=${r.split(',')[17]}`).join(' ');
      if (rows.length === count && rows.every((r) => r.split(',')[17] === 'UP')) return;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(200);
  }
  throw new Error(`HAProxy did not see all ${count} nodes UP within 60 s (${last})`);
}

/** Starts `count` nodes on one keyspace; the first provisions the bench mailboxes. */
async function startNodes(count: number, sessions: number, engineLines: string[]): Promise<HermodHandle[]> {
  const lines = [...engineLines, 'proxy: { trusted: [127.0.0.1/32] }'];
  const nodes: HermodHandle[] = [];
  try {
    // One after the other: schema creation and provisioning are the first node's, once.
    for (let i = 0; i < count; i++) nodes.push(await startHermod(sessions, lines, i === 0));
  } catch (err) {
    await Promise.all(nodes.map((n) => n.stop().catch(() => null)));
    throw err;
  }
  return nodes;
}

/** One node count: nodes, HAProxy, warm-up, measured load, stop, count. */
async function runNodeCount(count: number, opts: NodesOptions, engine: EngineProfile, log: (l: string) => void): Promise<NodesResult> {
  const dir = mkdtempSync(join(tmpdir(), 'hermod-bench-nodes-'));
  let nodes: HermodHandle[] = [];
  let haproxy: ChildProcess | null = null;
  try {
    nodes = await startNodes(count, opts.sessions, engine.configLines());
    const port = await freePort();
    haproxy = spawn(findTool('haproxy'), ['-f', haproxyConfig(dir, port, nodes), '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
    await waitAllUp(join(dir, 'admin.sock'), count, haproxy);
    await waitForGreeting('127.0.0.1', port, 10_000);
    log(`  ${count} node(s): pids ${nodes.map((n) => n.pid).join(', ')}, HAProxy pid ${haproxy.pid} on 127.0.0.1:${port}`);
    const source = (to: string): SourceOptions => ({
      host: '127.0.0.1', port, lmtp: true, sessions: opts.sessions, size: opts.size, from: BENCH_SENDER, to,
      seconds: opts.seconds, reuseConnections: true,
    });
    if (opts.warmup > 0) await runBatch(source(WARMUP_MAILBOX), opts.warmup);
    const samplers = nodes.map((n) => new ProcessSampler(n.pid));
    const proxySampler = new ProcessSampler(haproxy.pid!);
    const servers = sampleServers();
    const machine = sampleMachine();
    const load = await runForDuration({
      ...source(LOAD_MAILBOX),
      onBatch: (b, total, elapsed) => log(`  ${count} node(s): batch of ${b.messages} in ${b.seconds.toFixed(2)} s (total ${total}, ${elapsed.toFixed(1)} s)`),
    });
    const hermod = samplers.map((s) => s.stop());
    const result: NodesResult = {
      nodes: count, messages: load.messages, seconds: load.seconds, msgsPerSecond: load.messages / load.seconds,
      hermod, haproxy: proxySampler.stop(), servers: servers(), storedEntries: 0, machineBusyPercent: machine(), error: null,
    };
    await stopChild(haproxy, 'SIGTERM', 5000);
    await Promise.all(nodes.map((n) => n.stop()));
    result.storedEntries = (await countStored(nodes[0].configFile, [LOAD_MAILBOX]))[LOAD_MAILBOX].entries;
    if (result.storedEntries !== result.messages) result.error = `stored ${result.storedEntries} entries for ${result.messages} sent`;
    return result;
  } catch (err) {
    log(`  ${count} node(s) failed: ${(err as Error).message}`);
    if (haproxy) await stopChild(haproxy, 'SIGKILL', 1000);
    for (const n of nodes) log(`  node ${n.pid} log tail:\n${n.logTail()}`);
    await Promise.all(nodes.map((n) => n.stop().catch(() => null)));
    const none = { cassandra: null, elasticsearch: null };
    return { nodes: count, messages: 0, seconds: 0, msgsPerSecond: 0, hermod: [], haproxy: null, servers: none, storedEntries: 0, machineBusyPercent: null, error: (err as Error).message };
  } finally {
    if (!opts.keep) {
      for (const n of nodes) removeDir(n.dir);
      rmSync(dir, { recursive: true, force: true });
      await engine.cleanup();
    }
  }
}

const pct = (p: ProcessStats | null | undefined) => (p ? `${p.cpuPercent.toFixed(0)} %` : 'n/a');

/** The printed table: one line per node count, then what it can and cannot show. */
function report(opts: NodesOptions, results: NodesResult[]): string[] {
  const base = results.find((r) => r.error === null)?.msgsPerSecond ?? 0;
  const lines = [
    '',
    `LMTP through HAProxy (leastconn, send-proxy-v2) to N Hermod nodes on Cassandra + Elasticsearch; ` +
      `smtp-source -L -d -s ${opts.sessions}, ${sizeLabel(opts.size)}, >= ${opts.seconds} s per node count; ` +
      `CPU over the load window, 100 % = one core, ${cpus().length} cores on this machine`,
    'nodes   msgs/s   vs first   hermod total (per node)              haproxy  cassandra  elasticsearch  these together  whole machine',
  ];
  for (const r of results) {
    if (r.error !== null && r.messages === 0) {
      lines.push(`${String(r.nodes).padStart(5)}   error: ${r.error}`);
      continue;
    }
    const hermodTotal = r.hermod.reduce((s, p) => s + p.cpuPercent, 0);
    const total = hermodTotal + (r.haproxy?.cpuPercent ?? 0) + (r.servers.cassandra?.cpuPercent ?? 0) + (r.servers.elasticsearch?.cpuPercent ?? 0);
    const perNode = r.hermod.map((p) => p.cpuPercent.toFixed(0)).join(' / ');
    lines.push(
      `${String(r.nodes).padStart(5)} ${r.msgsPerSecond.toFixed(1).padStart(8)} ${(base ? r.msgsPerSecond / base : 0).toFixed(2).padStart(9)}x   ` +
        `${`${hermodTotal.toFixed(0)} % (${perNode})`.padEnd(36)} ${pct(r.haproxy).padStart(7)} ${pct(r.servers.cassandra).padStart(10)} ` +
        `${pct(r.servers.elasticsearch).padStart(14)} ${`${total.toFixed(0)} %`.padStart(15)} ` +
        `${(r.machineBusyPercent === null ? 'n/a' : `${r.machineBusyPercent.toFixed(0)} %`).padStart(14)}` +
        (r.error ? `   PROBLEM: ${r.error}` : `   stored ${r.storedEntries} == sent`),
    );
  }
  lines.push(
    `the servers' CPU is the whole process (shared with anything else using them); "whole machine" is every ` +
      `process (/proc/stat): near ${cpus().length * 100} %, more nodes can only divide the same cores`,
  );
  return lines;
}

/** Runs every node count in order and prints the table; non-zero exit on any problem. */
export async function runNodesBench(argv: string[]): Promise<void> {
  const opts = parseNodesOptions(argv);
  const log = (line: string) => console.error(line);
  const engine = engineProfiles(['distributed'], log).find((e) => e.name === 'distributed')!;
  const results: NodesResult[] = [];
  for (const count of opts.nodes) {
    log(`nodes ${count}: starting ${count} Hermod node(s) on a fresh keyspace and index, HAProxy in front`);
    results.push(await runNodeCount(count, opts, engine, log));
  }
  for (const line of report(opts, results)) console.log(line);
  if (results.some((r) => r.error !== null)) process.exitCode = 1;
}
