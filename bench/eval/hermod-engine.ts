/**
 * Hermod under evaluation, through its own code: the parse plugin parses, the bayes plugin's
 * learnMessage teaches an in-memory SQLite message store, and classification runs the configured
 * plugins (parse, spam, bayes) with the pipeline's runner; the scorer (decide) gives the chain's
 * verdict.
 */
import { pino } from 'pino';
import { bayesConfigSchema, learnMessage, type BayesConfig } from '../../plugins/bayes/index.js';
import { builtinPlugins } from '../../plugins/index.js';
import { configSchema, type HermodConfig } from '../../src/config/schema.js';
import { decide } from '../../src/pipeline/decision.js';
import { PluginReplay } from '../../src/pipeline/replay.js';
import type { ParsedMessage } from '../../src/plugin-api.js';
import { SqliteMessageStore } from '../../src/store/sqlite/sqlite-message-store.js';
import type { Sample } from './corpus.js';
import type { EvalEngine } from './engine.js';
import type { Prediction } from './metrics.js';

/** Options for {@link HermodEngine}. */
export interface HermodEngineOptions {
  /** The bayes plugin's config (defaults otherwise). */
  bayes?: Record<string, unknown>;
  /** The spam plugin's config (defaults otherwise). */
  spam?: Record<string, unknown>;
}

/** One rule's hits on the test messages. */
interface Hits {
  spam: number;
  ham: number;
  hardHam: number;
}

/**
 * Rows: `hermod bayes` — the Bayesian filter's own verdict (probability ≥ unsureHigh is spam);
 * `hermod chain` — parse + spam heuristics + bayes through the scorer, spam when X-Spam-Status
 * says Yes (score ≥ scoring.addHeader), the same line SpamAssassin's required_score draws.
 */
export class HermodEngine implements EvalEngine {
  readonly rows = ['hermod bayes', 'hermod chain'];
  private readonly config: HermodConfig;
  private readonly bayesConfig: BayesConfig;
  private readonly log = pino({ level: 'silent' });
  private readonly parsedCache = new Map<string, ParsedMessage>();
  private store?: SqliteMessageStore;
  private parser?: PluginReplay;
  private chain?: PluginReplay;
  private hits = new Map<string, Hits>();
  private tested: Hits = { spam: 0, ham: 0, hardHam: 0 };
  /** Per test message since resetRuleHits (for --dump): what each plugin said. */
  readonly records: { id: string; label: string; group: string; probability: number | null; rules: string[]; score: number }[] = [];

  constructor(options: HermodEngineOptions = {}) {
    this.bayesConfig = bayesConfigSchema.parse(options.bayes ?? {});
    this.config = configSchema.parse({
      plugins: [
        { name: 'parse' },
        { name: 'spam', config: options.spam ?? {} },
        { name: 'bayes', config: options.bayes ?? {} },
      ],
    });
  }

  async start(): Promise<void> {
    this.parser = await PluginReplay.open(this.config, builtinPlugins, ['parse'], this.deps());
  }

  /** A fresh in-memory store per fold, taught every training message once. */
  async train(samples: Sample[]): Promise<void> {
    await this.closeFold();
    this.store = new SqliteMessageStore({ file: ':memory:' });
    await this.store.init();
    for (const sample of samples) {
      const parsed = await this.parse(sample);
      await learnMessage(this.store, { parsed, raw: sample.raw, mailboxId: null, label: sample.label }, this.bayesConfig);
    }
    this.chain = await PluginReplay.open(this.config, builtinPlugins, ['parse', 'spam', 'bayes'], this.deps());
  }

  async classify(sample: Sample): Promise<Prediction[]> {
    if (!this.chain) throw new Error('hermod: classify before train');
    const { transaction } = await this.chain.run({ raw: sample.raw, recipients: [] });
    const bayes = transaction.findings.find((f) => f.plugin === 'bayes')?.finding;
    const verdict = bayes?.details?.verdict;
    const probability = bayes?.details?.probability;
    const decision = decide(transaction, this.config.scoring);
    const rules = this.countHits(sample, transaction.findings);
    this.records.push({ id: sample.id, label: sample.label, group: sample.group, probability: typeof probability === 'number' ? probability : null, rules, score: decision.score });
    return [
      { spam: verdict === 'spam', unsure: verdict === 'unsure', score: typeof probability === 'number' ? probability : undefined },
      { spam: decision.spam !== 'ham', score: decision.score },
    ];
  }

  /** Starts counting rule hits afresh (for one test part). */
  resetRuleHits(): void {
    this.hits = new Map();
    this.tested = { spam: 0, ham: 0, hardHam: 0 };
    this.records.length = 0;
  }

  /** Hits per rule of the spam plugin (and the Bayes band) since resetRuleHits. */
  ruleHits(): Hits & { rules: Record<string, Hits> } {
    // Copies: the counters go on counting in later test parts.
    const rules = [...this.hits].sort(([a], [b]) => a.localeCompare(b)).map(([name, h]) => [name, { ...h }]);
    return { ...this.tested, rules: Object.fromEntries(rules) };
  }

  private countHits(sample: Sample, findings: { plugin: string; finding: { details?: Record<string, unknown> } }[]): string[] {
    const bump = (h: Hits): void => {
      if (sample.label === 'spam') h.spam++;
      else {
        h.ham++;
        if (sample.group === 'hard-ham-1') h.hardHam++;
      }
    };
    bump(this.tested);
    const names = new Set<string>();
    for (const { plugin, finding } of findings) {
      const rules = finding.details?.rules;
      if (Array.isArray(rules)) for (const r of rules as { name: string }[]) names.add(r.name);
      if (plugin === 'bayes' && typeof finding.details?.rule === 'string') names.add(finding.details.rule);
    }
    for (const name of names) {
      const h = this.hits.get(name) ?? { spam: 0, ham: 0, hardHam: 0 };
      bump(h);
      this.hits.set(name, h);
    }
    return [...names];
  }

  async stop(): Promise<void> {
    await this.closeFold();
    await this.parser?.close();
  }

  /** The parse plugin's output, parsed once per message for all folds (it depends on the bytes only). */
  private async parse(sample: Sample): Promise<ParsedMessage> {
    const cached = this.parsedCache.get(sample.id);
    if (cached) return cached;
    const { transaction } = await this.parser!.run({ raw: sample.raw, recipients: [] });
    if (!transaction.parsed) throw new Error(`hermod: ${sample.id} was not parsed`);
    this.parsedCache.set(sample.id, transaction.parsed);
    return transaction.parsed;
  }

  private deps() {
    return { log: this.log, hostname: 'eval.test', store: this.store };
  }

  private async closeFold(): Promise<void> {
    await this.chain?.close();
    this.chain = undefined;
    await this.store?.close();
    this.store = undefined;
  }
}
