import { createHash } from 'node:crypto';
import type { HermodConfig, PluginEntry } from '../config/schema.js';
import { InputError } from '../errors.js';
import { rawStreamOf } from '../mail/raw-stream.js';
import type { LedgerLine } from '../store/types.js';
import { closePlugins, loadPlugins, type LoadedPlugin } from './registry.js';
import { PluginRunner } from './runner.js';
import type { PluginDeps, PluginManifest, RecipientState, SessionInfo, Transaction } from './types.js';

/** What a replayed message is addressed as: its recipients and, when known, its envelope. */
export interface ReplayInput {
  raw: Buffer;
  recipients: RecipientState[];
  /** MAIL FROM of the original delivery. @defaultValue "" */
  mailFrom?: string;
  /** Client address of the original delivery. @defaultValue "127.0.0.1" */
  clientAddress?: string;
  /**
   * The auth plugin's results at delivery (from the ledger), for rules that test them: SPF and
   * DKIM are not checked again later, when DNS has moved on.
   */
  auth?: Transaction['auth'];
}

/** A replayed message: the transaction as the plugins left it, and their ledger lines. */
export interface ReplayResult {
  transaction: Transaction;
  ledger: LedgerLine[];
}

/** A default chain entry for a plugin the config does not list (its config defaults apply). */
function defaultEntry(name: string): PluginEntry {
  return { name, timeoutMs: 5000, failOpen: false, config: {} };
}

/**
 * Runs messages that are not arriving over SMTP — stored mail being reclassified, files being
 * learned — through some of the configured plugins, with the runner delivery uses: the data
 * stage, then the message stage, each plugin with its configured settings and timeout.
 */
export class PluginReplay {
  private constructor(
    private readonly plugins: LoadedPlugin[],
    private readonly runner: PluginRunner,
    private readonly deps: PluginDeps,
  ) {}

  /**
   * Loads the named plugins, in the order given, each with its entry from `config.plugins`.
   * @param required names that must be configured (InputError otherwise); the rest fall back to
   *   their defaults when the chain does not list them (parse, for learning).
   */
  static async open(
    config: HermodConfig,
    available: Record<string, PluginManifest<any, any>>,
    names: readonly string[],
    deps: PluginDeps,
    required: readonly string[] = [],
  ): Promise<PluginReplay> {
    const entries = names.map((name) => {
      const entry = config.plugins.find((p) => p.name === name);
      if (!entry && required.includes(name)) {
        throw new InputError(`plugin '${name}' is not in the configured chain (plugins in the config)`);
      }
      return entry ?? defaultEntry(name);
    });
    const plugins = await loadPlugins(entries, available, deps);
    return new PluginReplay(plugins, new PluginRunner(plugins, deps.log), deps);
  }

  /** The validated config a loaded plugin runs with. */
  pluginConfig<C>(name: string): C | undefined {
    return this.plugins.find((p) => p.entry.name === name)?.config as C | undefined;
  }

  /** Runs the data and message stages on one message. */
  async run(input: ReplayInput): Promise<ReplayResult> {
    const sha256 = createHash('sha256').update(input.raw).digest('hex');
    const transaction: Transaction = {
      id: `replay-${sha256.slice(0, 12)}`,
      mailFrom: input.mailFrom ?? '',
      recipients: input.recipients,
      raw: input.raw,
      rawStream: () => rawStreamOf(input.raw),
      sha256,
      addedHeaders: [],
      findings: [],
      ...(input.auth ? { auth: input.auth } : {}),
    };
    const session = replaySession(input.clientAddress ?? '127.0.0.1');
    const ledger: LedgerLine[] = [];
    await this.runner.run('data', { session, transaction, ledger });
    await this.runner.run('message', { session, transaction, ledger });
    return { transaction, ledger };
  }

  async close(): Promise<void> {
    await closePlugins(this.plugins, this.deps.log);
  }
}

function replaySession(clientAddress: string): SessionInfo {
  return {
    id: 'replay',
    listener: 'lmtp',
    clientAddress,
    clientPort: 0,
    peerAddress: clientAddress,
    proxied: false,
    heloName: 'replay',
    secure: false,
  };
}
