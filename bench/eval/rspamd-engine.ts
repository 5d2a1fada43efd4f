/**
 * rspamd as a reference: a private rspamd (the Debian config, our ports and directories) with
 * its Bayes classifier on a private Redis, emptied and retrained with `rspamc learn_spam` /
 * `learn_ham` each fold. Network modules are off (like SpamAssassin's -L); autolearn is off.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sample } from './corpus.js';
import { writeTrainingFiles, type EvalEngine } from './engine.js';
import type { Prediction } from './metrics.js';
import { EngineUnavailable, freePort, requireCommands, run, spawnDaemon, stopDaemon, waitForPort } from './processes.js';

/** Modules that query DNS or other hosts, or learn from what they scan: off for a local, repeatable run. */
const NETWORK_MODULES = [
  'rbl', 'surbl', 'emails', 'fuzzy_check', 'spf', 'dkim', 'dmarc', 'arc', 'asn', 'hfilter', 'mx_check', 'dcc',
  'url_redirector', 'rspamd_update', 'bimi', 'reputation', 'greylist', 'ratelimit', 'neural', 'history_redis',
  'replies', 'metadata_exporter', 'clickhouse', 'elastic', 'antivirus', 'external_services', 'p0f',
];

/** Actions rspamd takes on what it considers spam (below: greylist or no action). */
const SPAM_ACTIONS = new Set(['reject', 'add header', 'rewrite subject']);

interface Ports {
  redis: number;
  normal: number;
  controller: number;
  proxy: number;
}

/** The local.d / override.d files of the private instance. */
function configFiles(dir: string, ports: Ports): Record<string, string> {
  const files: Record<string, string> = {
    'local.d/options.inc': 'dns {\n  nameserver = ["127.0.0.1:1"];\n  timeout = 0.2s;\n  retransmits = 1;\n}\n',
    'local.d/redis.conf': `servers = "127.0.0.1:${ports.redis}";\n`,
    // Every training message is learned: the stock learn condition skips messages Bayes already
    // classifies confidently, which would leave rspamd trained on a fraction of the same part.
    'local.d/classifier-bayes.conf': [
      'backend = "redis";',
      `servers = "127.0.0.1:${ports.redis}";`,
      'autolearn = false;',
      'min_learns = 10;',
      "learn_condition = 'return function(task, is_spam, is_unlearn) return true end';",
      '',
    ].join('\n'),
    'override.d/worker-normal.inc': `bind_socket = "127.0.0.1:${ports.normal}";\ncount = 2;\n`,
    'override.d/worker-controller.inc': `bind_socket = "127.0.0.1:${ports.controller}";\n`,
    'override.d/worker-proxy.inc': `bind_socket = "127.0.0.1:${ports.proxy}";\n`,
    'override.d/logging.inc': `type = "file";\nfilename = "${join(dir, 'log', 'rspamd.log')}";\nlevel = "error";\n`,
  };
  for (const m of NETWORK_MODULES) files[`local.d/${m}.conf`] = 'enabled = false;\n';
  return files;
}

export class RspamdEngine implements EvalEngine {
  readonly rows = ['rspamd'];
  readonly concurrency = 4;
  private dir = '';
  private ports: Ports = { redis: 0, normal: 0, controller: 0, proxy: 0 };
  private redis?: ChildProcess;
  private rspamd?: ChildProcess;
  private commands: Record<string, string> = {};
  private scanned = 0;
  private bayesHits = 0;

  async start(): Promise<void> {
    this.commands = requireCommands(['rspamd', 'rspamc', 'redis-server', 'redis-cli'], 'rspamd redis-server');
    this.dir = mkdtempSync(join(tmpdir(), 'hermod-eval-rspamd-'));
    for (const sub of ['conf/local.d', 'conf/override.d', 'db', 'run', 'log']) mkdirSync(join(this.dir, sub), { recursive: true });
    this.ports = { redis: await freePort(), normal: await freePort(), controller: await freePort(), proxy: await freePort() };
    for (const [name, text] of Object.entries(configFiles(this.dir, this.ports))) writeFileSync(join(this.dir, 'conf', name), text);
    this.redis = spawnDaemon(
      this.commands['redis-server'],
      ['--port', String(this.ports.redis), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir],
      join(this.dir, 'log', 'redis.log'),
    );
    await waitForPort(this.ports.redis, 20_000, this.redis);
    const v = (name: string, value: string) => ['--var', `${name}=${value}`];
    this.rspamd = spawnDaemon(
      this.commands.rspamd,
      [
        '-f', '-i', '-c', '/etc/rspamd/rspamd.conf',
        ...v('LOCAL_CONFDIR', join(this.dir, 'conf')), ...v('DBDIR', join(this.dir, 'db')),
        ...v('RUNDIR', join(this.dir, 'run')), ...v('LOGDIR', join(this.dir, 'log')),
      ],
      join(this.dir, 'log', 'stdout.log'),
    );
    await waitForPort(this.ports.normal, 120_000, this.rspamd);
    await waitForPort(this.ports.controller, 30_000, this.rspamd);
  }

  /** Empties Redis (all Bayes statistics) and learns the training part. */
  async train(samples: Sample[]): Promise<void> {
    await run(this.commands['redis-cli'], ['-p', String(this.ports.redis), 'FLUSHALL']);
    const files = writeTrainingFiles(join(this.dir, 'train'), samples);
    const host = `127.0.0.1:${this.ports.controller}`;
    for (const [command, path] of [['learn_spam', files.spam], ['learn_ham', files.ham]]) {
      const out = await run(this.commands.rspamc, ['-h', host, '-n', '4', '-t', '60', command, path]);
      const learned = (out.match(/success = true/g) ?? []).length;
      if (learned === 0) throw new EngineUnavailable(`rspamc ${command} learned nothing: ${out.slice(0, 300)}`);
    }
  }

  async classify(sample: Sample): Promise<Prediction[]> {
    const response = await fetch(`http://127.0.0.1:${this.ports.normal}/checkv2`, { method: 'POST', body: new Uint8Array(sample.raw) });
    if (!response.ok) throw new Error(`rspamd: HTTP ${response.status} for ${sample.id}`);
    const result = (await response.json()) as { action?: string; score?: number; symbols?: Record<string, unknown> };
    this.scanned++;
    if (Object.keys(result.symbols ?? {}).some((s) => s.startsWith('BAYES_'))) this.bayesHits++;
    return [{ spam: SPAM_ACTIONS.has(result.action ?? ''), score: result.score }];
  }

  /** Proof the reference really used its Bayes statistics (BAYES_SPAM or BAYES_HAM in the result). */
  notes(): string {
    return `BAYES_SPAM or BAYES_HAM in ${this.bayesHits} of ${this.scanned} results`;
  }

  async stop(): Promise<void> {
    await stopDaemon(this.rspamd);
    await stopDaemon(this.redis);
    this.rspamd = undefined;
    this.redis = undefined;
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}
