/**
 * The two front doors the front-door benchmark compares, each deployed exactly as the end-to-end
 * tests deploy it (ansible/site.yml applied to localhost under a temporary directory, daemons
 * started from the files the roles wrote): MX → HAProxy (PROXY v2) → two Hermod nodes.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  serverStates,
  startHaproxy,
  startHermodNode,
  startPostfix,
  stopChild,
  stopPostfix,
  waitReady,
  type HermodNode,
} from '../test/e2e/support/daemons.js';
import { ADDR, applyDeployment, type Cluster } from '../test/e2e/support/deployment.js';
import { applyHarakaDeployment, HARAKA_HOPS, harakaQueue, startHaraka } from '../test/e2e/support/haraka.js';
import { run, waitUntil } from '../test/e2e/support/tools.js';

export type FrontName = 'postfix' | 'haraka';

/** A running front door and where to measure each hop. */
export interface FrontStack {
  name: FrontName;
  /** Where smtp-source connects. */
  mx: { host: string; port: number };
  /** Process roots of each hop, for CPU accounting (re-read: Postfix's children come and go). */
  pids: { mx: () => number[]; haproxy: number[]; hermod: number[] };
  /** Recipients Hermod answered 250 so far (every node's transaction log lines). */
  stored: () => number;
  /** True when the MX holds no mail any more. */
  drained: () => Promise<boolean>;
  stop: () => Promise<void>;
}

/** Deploys and starts `name`'s stack under a fresh temporary directory. */
export async function startFront(name: FrontName): Promise<FrontStack> {
  const dir = mkdtempSync(join(tmpdir(), `hermod-bench-front-${name}-`));
  return name === 'postfix' ? startPostfixFront(dir) : startHarakaFront(dir);
}

async function startCluster(d: Cluster, hermodHost: string) {
  const nodes = d.nodes.map((ports) => startHermodNode(d, ports));
  for (const node of nodes) await waitReady(node, hermodHost);
  const haproxy = startHaproxy(d);
  await waitUntil('HAProxy to see every node UP', 60_000, async () => {
    const states = Object.values(await serverStates(d));
    return states.length === 6 && states.every((s) => s === 'UP') ? true : undefined;
  });
  return { nodes, haproxy };
}

function storedCount(nodes: HermodNode[]): number {
  let n = 0;
  for (const node of nodes) {
    for (const line of node.logs) {
      if (line.msg !== 'transaction') continue;
      for (const rcpt of (line.rcpt as { reply?: string }[] | undefined) ?? []) if (rcpt.reply?.startsWith('250')) n++;
    }
  }
  return n;
}

async function startPostfixFront(dir: string): Promise<FrontStack> {
  const d = await applyDeployment(dir);
  const { nodes, haproxy } = await startCluster(d, ADDR.HERMOD);
  await startPostfix(d);
  const queueDir = (await run('postconf', ['-c', d.postfixConfigDir, '-h', 'queue_directory'])).stdout.trim();
  const masterPid = () => [Number(readFileSync(join(queueDir, 'pid/master.pid'), 'utf8').trim())];
  return {
    name: 'postfix',
    mx: { host: ADDR.POSTFIX, port: d.postfixSmtp },
    pids: { mx: masterPid, haproxy: [haproxy.child.pid!], hermod: nodes.map((n) => n.child.pid!) },
    stored: () => storedCount(nodes),
    drained: async () => (await run('postqueue', ['-c', d.postfixConfigDir, '-j'])).stdout.trim() === '',
    stop: async () => {
      await stopPostfix(d);
      await stopChild(haproxy.child);
      await Promise.all(nodes.map((n) => stopChild(n.child)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startHarakaFront(dir: string): Promise<FrontStack> {
  const d = await applyHarakaDeployment(dir);
  const { nodes, haproxy } = await startCluster(d, HARAKA_HOPS.HERMOD);
  const haraka = await startHaraka(d);
  await waitUntil('Haraka to listen', 60_000, async () => (haraka.output().includes('Listening on') ? true : undefined));
  return {
    name: 'haraka',
    mx: { host: HARAKA_HOPS.MTA, port: d.harakaSmtp },
    pids: { mx: () => [haraka.child.pid!], haproxy: [haproxy.child.pid!], hermod: nodes.map((n) => n.child.pid!) },
    stored: () => storedCount(nodes),
    drained: async () => harakaQueue(d).length === 0,
    stop: async () => {
      await stopChild(haraka.child);
      await stopChild(haproxy.child);
      await Promise.all(nodes.map((n) => stopChild(n.child)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
