import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { errorLine, runCli, tempDir, writeFile, type CliResult } from './run-cli.js';

/** Every stderr line of a failed run; each must be a one-line "hermod: " error. */
function errorLines(result: CliResult): string[] {
  const lines = result.stderr.split('\n').filter((l) => l.trim() !== '');
  for (const line of lines) expect(line).toMatch(/^hermod: /);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  return lines;
}

describe('hermod config check', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('prints "config OK" and a summary for a valid file', async () => {
    const file = writeFile(
      tmp.dir,
      'good.yaml',
      [
        'hostname: mx.example.org',
        `dataDir: ${tmp.dir}`,
        'lmtp: { port: 2424 }',
        'smtp: { enabled: false }',
        'plugins:',
        '  - name: parse',
        '  - name: spam',
        '    timeoutMs: 2000',
      ].join('\n'),
    );
    const result = await runCli(['config', 'check', file]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe(`config OK: ${file}`);
    expect(result.stdout).toMatch(/listeners\s+lmtp 127\.0\.0\.1:2424, smtp disabled/);
    expect(result.stdout).toMatch(/store\s+sqlite .*hermod\.sqlite/);
    expect(result.stdout).toMatch(/search\s+sqlite .*search\.sqlite/);
    expect(result.stdout).toMatch(/plugins\s+parse, spam\n/);
  });

  it('names the file and the line for invalid YAML, exit status 2', async () => {
    const file = writeFile(tmp.dir, 'broken.yaml', 'hostname: mx\nlmtp: [unclosed\n');
    const result = await runCli(['config', 'check', file]);
    expect(result.code).toBe(2);
    expect(errorLine(result)).toMatch(new RegExp(`^hermod: ${escape(file)}:\\d+: invalid YAML`));
  });

  it('names the file and the key for an unknown key and for a wrong type', async () => {
    const unknown = writeFile(tmp.dir, 'unknown.yaml', 'hostname: mx.example.org\nlmpt:\n  port: 2424\n');
    const wrongType = writeFile(tmp.dir, 'type.yaml', 'limits:\n  maxRecipients: lots\n');
    // The global --config option goes through the same loader as `config check FILE`.
    const [a, b] = await Promise.all([
      runCli(['config', 'check', unknown]),
      runCli(['--config', wrongType, 'config', 'check']),
    ]);
    expect(a.code).toBe(2);
    expect(errorLine(a)).toBe(`hermod: ${unknown}:2: lmpt: unknown key (did you mean lmtp?)`);
    expect(b.code).toBe(2);
    expect(errorLine(b)).toMatch(new RegExp(`^hermod: ${escape(wrongType)}:2: limits\\.maxRecipients: `));
  });

  it('names nested unknown keys, and checks each plugin against its manifest', async () => {
    const nested = writeFile(tmp.dir, 'nested.yaml', 'lmtp:\n  prot: 2424\n');
    const regex = writeFile(
      tmp.dir,
      'regex.yaml',
      'plugins:\n  - name: parse\n  - name: classify\n    config: { rules: [{ name: x, if: { header: subject, matches: "(" } }] }\n',
    );
    const order = writeFile(tmp.dir, 'order.yaml', 'plugins: [{ name: spam }]\n');
    const [a, b, c] = await Promise.all([nested, regex, order].map((f) => runCli(['config', 'check', f])));
    expect(errorLine(a)).toBe(`hermod: ${nested}:2: lmtp.prot: unknown key (did you mean port?)`);
    expect(b.code).toBe(2);
    expect(errorLine(b)).toMatch(new RegExp(`^hermod: ${escape(regex)}: plugin 'classify': config\\.rules\\.0: .*bad regex`));
    expect(errorLine(c)).toBe(`hermod: ${order}: plugin 'spam': needs plugin 'parse' configured before it`);
  });

  it('reports every problem serve would refuse, each with its line, and exits 2', async () => {
    const file = writeFile(
      tmp.dir,
      'many.yaml',
      [
        `dataDir: ${tmp.dir}`,
        'lmtp: { port: 2600 }',
        'smtp:',
        '  port: 2600',
        'proxy:',
        '  trusted: [10.0.0.0/33, banana]',
        'tls:',
        '  key: missing-key.pem',
        `  cert: ${file0()}`,
        'scoring:',
        '  junk: 20',
        '  reject: 10',
      ].join('\n'),
    );
    const result = await runCli(['config', 'check', file]);
    expect(result.code).toBe(2);
    expect(errorLines(result).sort()).toEqual(
      [
        `hermod: ${file}:4: smtp.port: port 2600 is already used by lmtp.port on 127.0.0.1`,
        `hermod: ${file}:6: proxy.trusted.0: '10.0.0.0/33' is not an IP address or CIDR`,
        `hermod: ${file}:6: proxy.trusted.1: 'banana' is not an IP address or CIDR`,
        `hermod: ${file}:8: tls.key: ${join(tmp.dir, 'missing-key.pem')}: no such file`,
        `hermod: ${file}:12: scoring.reject: reject (10) is below junk (20); the order must be addHeader ≤ junk ≤ tempfail ≤ reject`,
      ].sort(),
    );
    // serve runs the same checks before it opens anything.
    const serve = await runCli(['-c', file, 'serve']);
    expect(serve.code).toBe(2);
    expect(errorLines(serve).sort()).toEqual(errorLines(result).sort());
  });

  it('checks the TLS files of the ops listener when ops is enabled, relative to the config file', async () => {
    const lines = ['ops:', '  tls: { cert: missing-ops.pem, key: missing-ops.key }'];
    const closed = writeFile(tmp.dir, 'ops-closed.yaml', [`dataDir: ${tmp.dir}`, ...lines].join('\n'));
    const open = writeFile(tmp.dir, 'ops-open.yaml', [`dataDir: ${tmp.dir}`, ...lines, '  enabled: true'].join('\n'));
    const [a, b] = await Promise.all([runCli(['config', 'check', closed]), runCli(['config', 'check', open])]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(2);
    expect(errorLines(b).sort()).toEqual([
      `hermod: ${open}:3: ops.tls.cert: ${join(tmp.dir, 'missing-ops.pem')}: no such file`,
      `hermod: ${open}:3: ops.tls.key: ${join(tmp.dir, 'missing-ops.key')}: no such file`,
    ]);
  });

  it('needs a dataDir that is, or can become, a directory', async () => {
    const file = writeFile(tmp.dir, 'datadir.yaml', `dataDir: ${file0()}/data\n`);
    const result = await runCli(['config', 'check', file]);
    expect([result.code, errorLine(result)]).toEqual([
      2,
      `hermod: ${file}:1: dataDir: ${file0()}/data: cannot be created: a parent is a file, not a directory`,
    ]);
  });

  it('checks the tempfail band, and the thresholds each mailbox sets among themselves', async () => {
    const file = writeFile(
      tmp.dir,
      'bands.yaml',
      ['scoring:', '  tempfail: 20', '  mailboxes:', '    bob@example.org: { junk: 10, reject: 9 }', '    carol@example.org: { reject: 3 }'].join('\n'),
    );
    const result = await runCli(['config', 'check', file]);
    expect(errorLines(result).sort()).toEqual(
      [
        `hermod: ${file}:2: scoring.tempfail: reject (15) is below tempfail (20); the order must be addHeader ≤ junk ≤ tempfail ≤ reject`,
        `hermod: ${file}:4: scoring.mailboxes.bob@example.org.reject: reject (9) is below junk (10); the order must be addHeader ≤ junk ≤ tempfail ≤ reject`,
      ].sort(),
    );
  });

  it('names the environment variable behind a bad value, and takes comma-separated lists from it', async () => {
    const file = writeFile(tmp.dir, 'env.yaml', `dataDir: ${tmp.dir}\n`);
    const bad = await runCli(['config', 'check', file], { HERMOD_LMTP__PORT: 'abc', HERMOD_PROXY__TRUSTED: '10.0.0.0/8,banana' });
    expect(errorLines(bad).sort()).toEqual(
      [
        'hermod: HERMOD_LMTP__PORT (lmtp.port): Invalid input: expected number, received string',
        "hermod: HERMOD_PROXY__TRUSTED (proxy.trusted.1): 'banana' is not an IP address or CIDR",
      ].sort(),
    );
    const good = await runCli(['config', 'check', file], {
      HERMOD_PROXY__TRUSTED: '10.0.0.0/8, 192.168.0.0/16',
      HERMOD_DELIVERY__DNS_SERVERS: '127.0.0.1:5353,::1',
    });
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/proxy\s+trusted 10\.0\.0\.0\/8, 192\.168\.0\.0\/16\n/);
    expect(good.stdout).toMatch(/environment\s+HERMOD_DELIVERY__DNS_SERVERS, HERMOD_PROXY__TRUSTED\n/);
  });

  it('summarizes submission, queue, relay and DKIM', async () => {
    const file = writeFile(
      tmp.dir,
      'outbound.yaml',
      [`dataDir: ${tmp.dir}`, 'submission: { enabled: true, port: 2600 }', 'relay: { host: smarthost.example.org, port: 587 }'].join('\n'),
    );
    const result = await runCli(['config', 'check', file]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/submission\s+127\.0\.0\.1:2600\n/);
    expect(result.stdout).toMatch(new RegExp(`queue\\s+sqlite ${escape(join(tmp.dir, 'queue.sqlite'))}, 20 workers\\n`));
    expect(result.stdout).toMatch(/relay\s+smarthost smarthost\.example\.org:587\n/);
    expect(result.stdout).toMatch(new RegExp(`dkim\\s+signing with keys in ${escape(join(tmp.dir, 'dkim'))}\\n`));
  });

  it('resolves relative paths in the file against its directory, and env paths against the working directory', async () => {
    const file = writeFile(tmp.dir, 'relative.yaml', 'dataDir: spool\n');
    const fromFile = await runCli(['config', 'show', file]);
    expect(fromFile.stdout).toContain(`dataDir = ${join(tmp.dir, 'spool')}\n`);
    const fromEnv = await runCli(['config', 'show', file], { HERMOD_DATA_DIR: 'elsewhere' });
    expect(fromEnv.stdout).toMatch(/^dataDir = \/.*\/elsewhere {2}# HERMOD_DATA_DIR$/m);
    expect(fromEnv.stdout).not.toContain(tmp.dir);
  });
});

describe('hermod config show', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('prints the keys that differ from the defaults, env-set ones marked, secrets masked', async () => {
    const file = writeFile(
      tmp.dir,
      'show.yaml',
      [
        `dataDir: ${tmp.dir}`,
        'hostname: mx.example.org',
        'relay: { host: smarthost.example.org, auth: { user: hermod, pass: s3cret } }',
        'queue: { driver: bullmq, bullmq: { url: "redis://:hunter2@127.0.0.1:6379" } }',
      ].join('\n'),
    );
    const result = await runCli(['config', 'show', file], { HERMOD_SMTP__PORT: '2600' });
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n').filter(Boolean)).toEqual([
      'hostname = mx.example.org',
      `dataDir = ${tmp.dir}`,
      'smtp.port = 2600  # HERMOD_SMTP__PORT',
      'queue.driver = bullmq',
      'queue.bullmq.url = redis://:********@127.0.0.1:6379',
      'relay.host = smarthost.example.org',
      'relay.auth.user = hermod',
      'relay.auth.pass = ********',
    ]);
    expect(result.stdout).not.toMatch(/s3cret|hunter2/);
    const all = await runCli(['config', 'show', '--all', file]);
    expect(all.stdout).toMatch(/^lmtp\.port = 2424$/m);
    expect(all.stdout).not.toMatch(/s3cret|hunter2/);
  });
});

/** A file that exists and is readable, for tls.cert. */
function file0(): string {
  return new URL('../fixtures/mail/01-personal.eml', import.meta.url).pathname;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
