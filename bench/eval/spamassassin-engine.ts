/**
 * SpamAssassin as a reference: a private spamd (local tests only, -L) with its own site config,
 * whose Bayes database is rebuilt by sa-learn from each fold's training part. Its own rules stay
 * on; auto-learning is off so test messages never train it.
 */
import type { ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sample } from './corpus.js';
import { writeTrainingFiles, type EvalEngine } from './engine.js';
import type { Prediction } from './metrics.js';
import { freePort, requireCommands, run, spawnDaemon, stopDaemon, waitForPort } from './processes.js';
import { spamdCheck } from './spamd-client.js';

/** Where Debian keeps the plugin-loading .pre files a site config directory must carry. */
const SYSTEM_SITE_CONFIG = '/etc/spamassassin';

/** Site config: Bayes at our path, never auto-learning, no network, the stock threshold of 5. */
function localCf(bayesPath: string): string {
  return [
    'required_score 5.0',
    'use_bayes 1',
    'use_bayes_rules 1',
    'bayes_auto_learn 0',
    `bayes_path ${bayesPath}`,
    'bayes_file_mode 0777',
    'bayes_learn_to_journal 0',
    'bayes_auto_expire 0',
    // A low floor, so a quick run with --limit still uses Bayes (Hermod's default minTrained is 200).
    'bayes_min_ham_num 10',
    'bayes_min_spam_num 10',
    'dns_available no',
    'skip_rbl_checks 1',
    'lock_method flock',
    '',
  ].join('\n');
}

export class SpamAssassinEngine implements EvalEngine {
  readonly rows = ['spamassassin'];
  readonly concurrency = 2;
  private dir = '';
  private port = 0;
  private spamd?: ChildProcess;
  private commands: Record<string, string> = {};
  private scanned = 0;
  private bayesHits = 0;

  async start(): Promise<void> {
    this.commands = requireCommands(['spamd', 'sa-learn'], 'spamassassin spamd');
    this.dir = mkdtempSync(join(tmpdir(), 'hermod-eval-sa-'));
    // spamd's children run as nobody: they must read (and lock) the Bayes files.
    chmodSync(this.dir, 0o777);
    const site = join(this.dir, 'site');
    mkdirSync(site);
    mkdirSync(join(this.dir, 'bayes'), { mode: 0o777 });
    chmodSync(join(this.dir, 'bayes'), 0o777);
    for (const name of readdirSync(SYSTEM_SITE_CONFIG).filter((n) => n.endsWith('.pre'))) {
      copyFileSync(join(SYSTEM_SITE_CONFIG, name), join(site, name));
    }
    writeFileSync(join(site, 'local.cf'), localCf(join(this.dir, 'bayes', 'bayes')));
  }

  /** Stops spamd, rebuilds the Bayes database with sa-learn, starts spamd on it. */
  async train(samples: Sample[]): Promise<void> {
    await stopDaemon(this.spamd);
    const bayesDir = join(this.dir, 'bayes');
    for (const name of readdirSync(bayesDir)) rmSync(join(bayesDir, name), { force: true, recursive: true });
    const files = writeTrainingFiles(join(this.dir, 'train'), samples);
    const site = `--siteconfigpath=${join(this.dir, 'site')}`;
    await run(this.commands['sa-learn'], [site, '--local', '--spam', files.spam]);
    await run(this.commands['sa-learn'], [site, '--local', '--ham', files.ham]);
    for (const name of readdirSync(bayesDir)) chmodSync(join(bayesDir, name), 0o777);
    await this.startSpamd(site);
  }

  async classify(sample: Sample): Promise<Prediction[]> {
    const result = await spamdCheck(this.port, sample.raw);
    this.scanned++;
    if (result.symbols.some((s) => s.startsWith('BAYES_'))) this.bayesHits++;
    return [{ spam: result.spam, score: result.score }];
  }

  /** Proof the reference really used its Bayes database: a BAYES_* rule hits on every message it scores. */
  notes(): string {
    return `a BAYES_* rule hit on ${this.bayesHits} of ${this.scanned} messages`;
  }

  async stop(): Promise<void> {
    await stopDaemon(this.spamd);
    this.spamd = undefined;
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  private async startSpamd(site: string): Promise<void> {
    this.port = await freePort();
    this.spamd = spawnDaemon(
      this.commands.spamd,
      [
        '--local',
        '--nouser-config',
        '--username=nobody',
        `--listen=127.0.0.1:${this.port}`,
        '--allowed-ips=127.0.0.1',
        site,
        `--max-children=${this.concurrency}`,
        `--min-children=${this.concurrency}`,
        `--pidfile=${join(this.dir, 'spamd.pid')}`,
        '--syslog=stderr',
      ],
      join(this.dir, 'spamd.log'),
    );
    await waitForPort(this.port, 120_000, this.spamd);
  }
}
