/**
 * Runs one plugin through the real PluginRunner (the runner's timeout and fail-open handling
 * included), with the plugin's own config schema and init, and returns verdicts and ledger lines.
 */
import { pino } from 'pino';
import { closePlugins, type LoadedPlugin } from '../../src/pipeline/registry.js';
import { PluginRunner } from '../../src/pipeline/runner.js';
import type { PluginManifest, SessionInfo, Stage, Transaction, Verdict } from '../../src/pipeline/types.js';
import type { LedgerLine } from '../../src/store/types.js';
import { makeSession, makeTransaction } from './plugin-context.js';

export interface RunnerOptions {
  config?: Record<string, unknown>;
  failOpen?: boolean;
  timeoutMs?: number;
  dataDir?: string;
}

/** A plugin loaded as the registry would, ready for `runStage`; close it with `close()`. */
export interface LoadedTestPlugin {
  plugin: LoadedPlugin;
  runStage(
    stage: Stage,
    input?: { session?: Partial<SessionInfo>; transaction?: Transaction },
  ): Promise<{ verdicts: Verdict[]; ledger: LedgerLine[]; transaction: Transaction }>;
  close(): Promise<void>;
}

export async function loadTestPlugin<C, S>(manifest: PluginManifest<C, S>, options: RunnerOptions = {}): Promise<LoadedTestPlugin> {
  const log = pino({ level: 'silent' });
  const config = manifest.configSchema.parse(options.config ?? {});
  const state = manifest.init ? await manifest.init(config, { log, hostname: 'mx.test', dataDir: options.dataDir }) : undefined;
  const plugin: LoadedPlugin = {
    manifest: manifest as PluginManifest<unknown, unknown>,
    entry: { name: manifest.name, timeoutMs: options.timeoutMs ?? 5000, failOpen: options.failOpen ?? false, config: options.config ?? {} },
    config,
    state,
  };
  const runner = new PluginRunner([plugin], log);
  return {
    plugin,
    async runStage(stage, input = {}) {
      const session = { ...makeSession(), ...input.session };
      const transaction = input.transaction ?? makeTransaction(Buffer.alloc(0));
      const ledger: LedgerLine[] = [];
      const recipient = stage === 'rcpt' ? transaction.recipients[0] : undefined;
      const verdicts = await runner.run(stage, { session, transaction, recipient, ledger });
      return { verdicts, ledger, transaction };
    },
    close: () => closePlugins([plugin], log),
  };
}
