import type { Logger } from 'pino';
import { bayesConfigSchema, learnMessage, learnScopes, type BayesConfig } from '../../plugins/bayes/index.js';
import { builtinPlugins } from '../../plugins/index.js';
import type { HermodConfig } from '../config/schema.js';
import { PluginError, StoreError } from '../errors.js';
import { PluginReplay } from '../pipeline/replay.js';
import type { RecipientState } from '../pipeline/types.js';
import type { MessageStore } from '../store/message-store.js';
import type { BayesLabel, BayesLearnResult, Mailbox } from '../store/types.js';

/**
 * The Bayes settings learning must share with classification (tokenizer, scopes): the `bayes`
 * entry of the configured chain, or the defaults when the chain has none.
 * @throws PluginError naming the key, like start-up would.
 */
export function bayesSettings(config: HermodConfig): BayesConfig {
  const entry = config.plugins.find((p) => p.name === 'bayes');
  const parsed = bayesConfigSchema.safeParse(entry?.config ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PluginError(`plugin 'bayes': ${['config', ...issue.path].join('.')}: ${issue.message}`);
  }
  return parsed.data;
}

/**
 * Teaches the Bayes statistics from raw messages: parsed by the configured parse plugin (the
 * same code path as delivery), tokenized with the configured bayes tokenizer.
 */
export class SpamLearner {
  private constructor(
    private readonly store: MessageStore,
    private readonly replay: PluginReplay,
    readonly settings: BayesConfig,
  ) {}

  /** @param log where the parse plugin's replay logs (the CLI's stderr logger, or the server's) */
  static async open(config: HermodConfig, store: MessageStore, log: Logger): Promise<SpamLearner> {
    const settings = bayesSettings(config);
    const replay = await PluginReplay.open(config, builtinPlugins, ['parse'], {
      log,
      hostname: config.hostname,
      dataDir: config.dataDir,
      store,
    });
    return new SpamLearner(store, replay, settings);
  }

  /** The scopes a message of this mailbox (null: none) is learned in. */
  scopes(mailboxId: string | null): string[] {
    return learnScopes(mailboxId, this.settings);
  }

  /** Learns (label) or forgets (null) one message, for a mailbox or (null) for the global scope. */
  async learn(raw: Buffer, mailbox: Mailbox | null, label: BayesLabel | null): Promise<BayesLearnResult[]> {
    const recipients: RecipientState[] = mailbox ? [{ address: mailbox.address, mailbox }] : [];
    const { transaction } = await this.replay.run({ raw, recipients });
    if (!transaction.parsed) throw new StoreError('learning: the parse plugin produced no parsed message');
    return learnMessage(this.store, { parsed: transaction.parsed, raw, mailboxId: mailbox?.id ?? null, label }, this.settings);
  }

  async close(): Promise<void> {
    await this.replay.close();
  }
}
