import { afterAll, describe, expect, it } from 'vitest';
import { errorLine, runCli, tempDir, writeFile } from './run-cli.js';

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
    expect(errorLine(a)).toBe(`hermod: ${unknown}: unknown key lmpt`);
    expect(b.code).toBe(2);
    expect(errorLine(b)).toMatch(new RegExp(`^hermod: ${escape(wrongType)}: limits\\.maxRecipients: `));
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
    expect(errorLine(a)).toBe(`hermod: ${nested}: unknown key lmtp.prot`);
    expect(b.code).toBe(2);
    expect(errorLine(b)).toMatch(new RegExp(`^hermod: ${escape(regex)}: plugin 'classify': config\\.rules\\.0: .*bad regex`));
    expect(errorLine(c)).toBe(`hermod: ${order}: plugin 'spam': needs plugin 'parse' configured before it`);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
