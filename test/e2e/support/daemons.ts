import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { ADDR, REPO, type Cluster, type Deployment, type NodePorts } from './deployment.js';
import { run, runOk, waitUntil, withSbin } from './tools.js';

/** A Hermod node process and the JSON log lines it wrote. */
export interface HermodNode {
  ports: NodePorts;
  child: ChildProcess;
  logs: Record<string, unknown>[];
  exited: Promise<number | null>;
}

/** Starts `hermod serve` with the configuration the role wrote for `ports.name`. */
export function startHermodNode(d: Cluster, ports: NodePorts): HermodNode {
  const [node, ...args] = d.hermodExec;
  const child = spawn(node, [...args, '-c', d.hermodConfig(ports.name), 'serve'], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: withSbin(),
  });
  const logs: Record<string, unknown>[] = [];
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (line.trim().startsWith('{')) logs.push(JSON.parse(line));
  });
  child.stderr!.resume();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { ports, child, logs, exited };
}

/** GET on a node's ops endpoint; resolves to status and body. */
export function opsGet(port: number, path: string, host: string = ADDR.HERMOD): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

export async function waitReady(node: HermodNode, host: string = ADDR.HERMOD): Promise<void> {
  // Generous: under a full parallel suite on two cores, a node started through tsx can take
  // over a minute to listen. A node that exited is named in the error.
  await waitUntil(`${node.ports.name} /readyz`, 180_000, async () => {
    if (node.child.exitCode !== null) throw new Error(`${node.ports.name} exited with code ${node.child.exitCode} before it was ready`);
    return (await opsGet(node.ports.ops, '/readyz', host)).status === 200 ? true : undefined;
  });
}

/** HAProxy in the foreground (-db), logging to stdout, from the role's haproxy.cfg. */
export function startHaproxy(d: Cluster): { child: ChildProcess; output: () => string } {
  const child = spawn('haproxy', ['-f', d.haproxyConfig, '-db'], { stdio: ['ignore', 'pipe', 'pipe'], env: withSbin() });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  return { child, output: () => output };
}

/** One command on HAProxy's runtime API socket; resolves to its answer. */
export function haproxyCommand(d: Cluster, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(d.haproxySocket, () => socket.end(`${command}\n`));
    let answer = '';
    socket.on('data', (c: Buffer) => (answer += c.toString()));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

/** Server state per backend/server from `show stat`, e.g. { 'hermod_lmtp/node1': 'UP' }. */
export async function serverStates(d: Cluster): Promise<Record<string, string>> {
  const lines = (await haproxyCommand(d, 'show stat')).split('\n').filter((l) => l && !l.startsWith('#'));
  const states: Record<string, string> = {};
  for (const line of lines) {
    const [proxy, server, ...rest] = line.split(',');
    if (server !== 'FRONTEND' && server !== 'BACKEND') states[`${proxy}/${server}`] = rest[15];
  }
  return states;
}

export async function startPostfix(d: Deployment): Promise<void> {
  const result = await run('postfix', ['-c', d.postfixConfigDir, 'start']);
  if (result.code !== 0) throw new Error(`postfix start failed (${result.code}): ${postfixLog(d).slice(-3000)}`);
}

/** Stops the private Postfix instance; abort (no waiting) when stop does not do it. */
export async function stopPostfix(d: Deployment): Promise<void> {
  if ((await run('postfix', ['-c', d.postfixConfigDir, 'stop'], { timeoutMs: 30_000 })).code === 0) return;
  await run('postfix', ['-c', d.postfixConfigDir, 'abort'], { timeoutMs: 30_000 });
}

export function postfixLog(d: Deployment): string {
  return existsSync(d.postfixLog) ? readFileSync(d.postfixLog, 'utf8') : '(no log)';
}

/** Messages in Postfix's queue (postqueue -j prints one JSON object per message). */
export async function queued(d: Deployment): Promise<Record<string, unknown>[]> {
  const { stdout } = await runOk('postqueue', ['-c', d.postfixConfigDir, '-j']);
  return stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Waits until Postfix's queue is empty (delivered or bounced), bounded. */
export async function waitQueueEmpty(d: Deployment, timeoutMs: number): Promise<void> {
  await waitUntil('postfix queue to drain', timeoutMs, async () => ((await queued(d)).length === 0 ? true : undefined), 500);
}

/** swaks with the test client address; resolves to its exit code and transcript. */
export function swaks(args: string[], from: string = ADDR.CLIENT): Promise<{ code: number; transcript: string }> {
  return run('swaks', ['--local-interface', from, '--from', 'bob@remote.test', ...args], { timeoutMs: 60_000 }).then((r) => ({
    code: r.code,
    transcript: r.stdout + r.stderr,
  }));
}

/** The hermod CLI against a node's configuration, JSON output parsed. */
export async function hermodJson<T>(d: Cluster, node: string, args: string[]): Promise<T> {
  const [bin, ...pre] = d.hermodExec;
  const { stdout } = await runOk(bin, [...pre, '-c', d.hermodConfig(node), ...args, '--json'], { cwd: REPO });
  return JSON.parse(stdout) as T;
}

/** Stops a child: SIGTERM, then SIGKILL if it is still there after `graceMs`. */
export async function stopChild(child: ChildProcess | undefined, graceMs = 5000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}


/** What a sending MTA's retries made of one message: sent, and how many 4xx it met first. */
export interface RetriedSend {
  code: number;
  transcript: string;
  tempFailures: number;
}

/**
 * Sends as an MTA would: a 4xx reply (a temporary failure, e.g. a lookup that hit a node as it
 * died) is tried again after a pause, up to `tries` times; anything else is final. The message
 * must then be stored exactly once: a 4xx promises that nothing was kept.
 */
export async function sendRetryingTempFailures(
  send: () => Promise<{ code: number; transcript: string }>,
  tries = 4,
  pauseMs = 1000,
): Promise<RetriedSend> {
  let tempFailures = 0;
  for (;;) {
    const sent = await send();
    const temporary = sent.code !== 0 && /^<\*\* +4\d\d[ -]/m.test(sent.transcript);
    if (!temporary || tempFailures + 1 >= tries) return { ...sent, tempFailures: tempFailures + (temporary ? 1 : 0) };
    tempFailures++;
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}
