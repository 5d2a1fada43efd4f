/**
 * Front-door benchmark: the same smtp-source load into each MX, one after the other in one run,
 * through HAProxy (PROXY v2) to two Hermod nodes, each stack deployed by ansible/site.yml as the
 * end-to-end tests deploy it:
 *
 *   smtp-source → Postfix → LMTP + XFORWARD → HAProxy → Hermod ×2
 *   smtp-source → Haraka  → LMTP + XCLIENT  → HAProxy → Hermod ×2
 *
 * For each front it prints how fast the MX accepted the load (smtp-source done), how fast it was
 * stored (every recipient answered 250 by Hermod, the MX's queue empty), and the CPU seconds of
 * each hop over that window (the MX with all its processes, HAProxy, both Hermod nodes), per
 * message too; then the haraka/postfix ratios. The first front listed is the reference.
 *
 *   npm run bench:front -- --fronts postfix,haraka --messages 1000 --sessions 20 --size 4096
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startFront, type FrontName, type FrontStack } from './front-stacks.js';
import { treeCpuSeconds } from './process-tree.js';
import { runBatch } from './smtp-source.js';

const { values } = parseArgs({
  options: {
    fronts: { type: 'string', default: 'postfix,haraka' },
    messages: { type: 'string', default: '1000' },
    sessions: { type: 'string', default: '20' },
    size: { type: 'string', default: '4096' },
    out: { type: 'string', default: 'bench/results/front-latest.json' },
  },
});

interface FrontResult {
  front: FrontName;
  messages: number;
  acceptSeconds: number;
  storeSeconds: number;
  cpuSeconds: { mx: number; haproxy: number; hermod: number };
}

const HOPS = ['mx', 'haproxy', 'hermod'] as const;

function cpuNow(stack: FrontStack): Record<(typeof HOPS)[number], number> {
  return {
    mx: treeCpuSeconds(stack.pids.mx()),
    haproxy: treeCpuSeconds(stack.pids.haproxy),
    hermod: treeCpuSeconds(stack.pids.hermod),
  };
}

async function measure(stack: FrontStack, messages: number, sessions: number, size: number): Promise<FrontResult> {
  const stored0 = stack.stored();
  const cpu0 = cpuNow(stack);
  const started = performance.now();
  await runBatch(
    { ...stack.mx, lmtp: false, sessions, size, from: 'bench@remote.test', to: 'alice@example.test', seconds: 0, reuseConnections: true },
    messages,
  );
  const acceptSeconds = (performance.now() - started) / 1000;
  const deadline = Date.now() + 600_000;
  while (stack.stored() - stored0 < messages || !(await stack.drained())) {
    if (Date.now() > deadline) throw new Error(`${stack.name}: only ${stack.stored() - stored0}/${messages} stored after 10 min`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const storeSeconds = (performance.now() - started) / 1000;
  const cpu1 = cpuNow(stack);
  const cpuSeconds = { mx: cpu1.mx - cpu0.mx, haproxy: cpu1.haproxy - cpu0.haproxy, hermod: cpu1.hermod - cpu0.hermod };
  return { front: stack.name, messages, acceptSeconds, storeSeconds, cpuSeconds };
}

function render(results: FrontResult[]): string {
  const rows = [['front', 'msgs', 'accepted msg/s', 'stored msg/s', 'MX CPU s (ms/msg)', 'HAProxy CPU s (ms/msg)', 'Hermod×2 CPU s (ms/msg)']];
  for (const r of results) {
    const cpu = (s: number) => `${s.toFixed(1)} (${((s / r.messages) * 1000).toFixed(2)})`;
    rows.push([
      r.front,
      String(r.messages),
      (r.messages / r.acceptSeconds).toFixed(1),
      (r.messages / r.storeSeconds).toFixed(1),
      ...HOPS.map((h) => cpu(r.cpuSeconds[h])),
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const lines = rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join('  '));
  const [ref, ...others] = results;
  for (const o of others) {
    const perMsg = (r: FrontResult, h: (typeof HOPS)[number]) => r.cpuSeconds[h] / r.messages;
    lines.push(
      `${o.front}/${ref.front}: stored msg/s ${(o.messages / o.storeSeconds / (ref.messages / ref.storeSeconds)).toFixed(2)}, ` +
        `accepted msg/s ${(o.messages / o.acceptSeconds / (ref.messages / ref.acceptSeconds)).toFixed(2)}, ` +
        `MX CPU per msg ${(perMsg(o, 'mx') / perMsg(ref, 'mx')).toFixed(2)}, ` +
        `Hermod CPU per msg ${(perMsg(o, 'hermod') / perMsg(ref, 'hermod')).toFixed(2)}`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const fronts = values.fronts!.split(',').map((f) => f.trim()) as FrontName[];
  for (const f of fronts) if (f !== 'postfix' && f !== 'haraka') throw new Error(`--fronts: unknown front "${f}" (postfix, haraka)`);
  const [messages, sessions, size] = [values.messages, values.sessions, values.size].map(Number);
  console.log(`front-door bench: ${messages} messages of ${size} B, ${sessions} smtp-source sessions, ${cpus().length} CPUs`);
  const results: FrontResult[] = [];
  for (const front of fronts) {
    console.log(`${front}: deploying (ansible/site.yml) and starting …`);
    const stack = await startFront(front);
    try {
      // A short warm-up so that start-up work (JIT, first connections) stays out of the figures.
      await measure(stack, Math.min(100, messages), sessions, size);
      results.push(await measure(stack, messages, sessions, size));
    } finally {
      await stack.stop();
    }
  }
  console.log(render(results));
  const out = resolve(values.out!);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), messages, sessions, size, results }, null, 2));
}

main().catch((err: Error) => {
  console.error(`front-door bench: ${err.message}`);
  process.exitCode = 1;
});
