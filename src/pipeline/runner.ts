import type { Logger } from 'pino';
import { pluginFailureVerdict } from '../mail/replies.js';
import type { LedgerLine } from '../store/types.js';
import type { LoadedPlugin } from './registry.js';
import { TimeSlice } from './time-slice.js';
import { STAGES } from './types.js';
import type {
  HookContext,
  PluginFinding,
  RecipientState,
  SessionInfo,
  Stage,
  Transaction,
  Verdict,
} from './types.js';

export interface StageInput {
  session: SessionInfo;
  transaction: Transaction;
  recipient?: RecipientState;
  /** Where each hook call's ledger line goes. */
  ledger: LedgerLine[];
}

/** Where hook latencies go (the ops room's Metrics); the runner needs nothing more of it. */
export interface PluginMetrics {
  pluginCall(plugin: string, stage: string, verdict: string, seconds: number): void;
}

class HookTimeout extends Error {}

/**
 * Runs the hooks of one stage in configured order. The first verdict that is not `continue`
 * and is not narrowed to some recipients ends the stage; narrowed verdicts are collected.
 * A throw or timeout is a tempfail (the reply table's pluginFailure) unless the plugin is configured fail-open.
 */
export class PluginRunner {
  /** The plugins with a hook for each stage, in configured order. */
  private readonly hooked: ReadonlyMap<Stage, LoadedPlugin[]>;

  /** @param metrics optional: when given, every hook call's latency and verdict is reported */
  constructor(
    plugins: LoadedPlugin[],
    private readonly log: Logger,
    private readonly metrics?: PluginMetrics,
  ) {
    this.hooked = new Map(STAGES.map((stage) => [stage, plugins.filter((p) => p.manifest.hooks[stage])]));
  }

  /** The stage's verdicts (a new array: callers add to it). A stage without hooks settles at once. */
  run(stage: Stage, input: StageInput): Promise<Verdict[]> {
    const plugins = this.hooked.get(stage) ?? [];
    return plugins.length === 0 ? Promise.resolve([]) : this.runHooks(plugins, stage, input);
  }

  private async runHooks(plugins: LoadedPlugin[], stage: Stage, input: StageInput): Promise<Verdict[]> {
    const verdicts: Verdict[] = [];
    // Hooks that finish without I/O chain through microtasks, so the whole chain would be one
    // stretch of the event loop: past the budget, the next hook waits for a turn.
    const slice = new TimeSlice();
    for (const plugin of plugins) {
      if (slice.due) await slice.pause();
      const verdict = await this.callHook(plugin, stage, input);
      if (verdict.action === 'continue') continue;
      verdicts.push(verdict);
      const narrowed = 'recipients' in verdict && verdict.recipients !== undefined;
      if (!narrowed) break;
    }
    return verdicts;
  }

  private async callHook(plugin: LoadedPlugin, stage: Stage, input: StageInput): Promise<Verdict> {
    const name = plugin.entry.name;
    const findings: PluginFinding[] = [];
    const log = this.log;
    let child: Logger | undefined;
    const ctx: HookContext = {
      stage,
      session: input.session,
      transaction: input.transaction,
      recipient: input.recipient,
      config: plugin.config,
      state: plugin.state,
      // Made when a hook first logs: most calls never do, and a pino child costs a serialized
      // copy of its bindings, per hook and per message.
      get log(): Logger {
        return (child ??= log.child({ plugin: name, stage }));
      },
      report: (finding) => {
        findings.push(finding);
        input.transaction.findings.push({ plugin: name, finding });
      },
    };
    const started = performance.now();
    let verdict: Verdict;
    let reason = '';
    try {
      const returned = plugin.manifest.hooks[stage]!(ctx);
      // A hook that returned without a promise is done: a timer could not have cut it short.
      const settled = isPromiseLike(returned) ? await withTimeout(returned, plugin.entry.timeoutMs) : returned;
      verdict = settled ?? CONTINUE;
    } catch (err) {
      const what = err instanceof HookTimeout ? `timed out after ${plugin.entry.timeoutMs} ms` : `failed: ${(err as Error).message}`;
      reason = `${name} ${what}`;
      this.log.warn({ plugin: name, stage, err, failOpen: plugin.entry.failOpen }, `plugin ${what}`);
      verdict = plugin.entry.failOpen
        ? CONTINUE
        : pluginFailureVerdict();
    }
    const elapsed = performance.now() - started;
    input.ledger.push(ledgerLine(name, stage, verdict, findings, reason, elapsed, input.recipient));
    this.metrics?.pluginCall(name, stage, reason ? 'error' : verdict.action, elapsed / 1000);
    return verdict;
  }
}

/** A hook's `continue`: shared, as nothing keeps or changes a verdict object. */
const CONTINUE: Verdict = Object.freeze({ action: 'continue' }) as Verdict;

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as PromiseLike<T> | null)?.then === 'function';
}

function ledgerLine(
  plugin: string,
  stage: Stage,
  verdict: Verdict,
  findings: PluginFinding[],
  failure: string,
  durationMs: number,
  recipient: RecipientState | undefined,
): LedgerLine {
  const score = findings.reduce((sum, f) => sum + (f.score ?? 0), 0);
  const reasons = findings.map((f) => f.reason).filter((r): r is string => !!r);
  if (failure) reasons.push(failure);
  if ('text' in verdict && verdict.text) reasons.push(verdict.text);
  const details: Record<string, unknown> = {};
  const tags = findings.flatMap((f) => f.tags ?? []);
  if (tags.length) details.tags = tags;
  const folder = findings.find((f) => f.folder)?.folder;
  if (folder) details.folder = folder;
  const importance = findings.reduce((sum, f) => sum + (f.importance ?? 0), 0);
  if (importance) details.importance = importance;
  for (const f of findings) if (f.details) Object.assign(details, f.details);
  if (recipient) details.recipient = recipient.address;
  return {
    plugin,
    stage,
    verdict: failure && verdict.action === 'continue' ? 'error-ignored' : verdict.action,
    score,
    reason: reasons.join('; '),
    durationMs: Math.round(durationMs * 1000) / 1000,
    details: Object.keys(details).length ? details : undefined,
  };
}

/** The hook's promise, or a HookTimeout once `ms` have passed: one timer, cleared when it settles. */
function withTimeout<T>(promise: PromiseLike<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new HookTimeout()), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
