import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, tempDir, writeFile } from './run-cli.js';
import { withStore } from './seed-store.js';

/** Starts `hermod -c CONFIG serve`, waits for the banner, stops it with SIGTERM; returns exit code and stderr. */
async function serveOnce(config: string, extraEnv: Record<string, string> = {}): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('HERMOD_')) env[k] = v;
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), '-c', config, 'serve'], {
    cwd: ROOT,
    env: { ...env, ...extraEnv },
  });
  let stderr = '';
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const started = new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (/LMTP listening on[^\n]*\n[\s\S]*\n\n?$/.test(stderr) || stderr.includes('message list --mailbox')) resolve();
    });
    void exited.then((code) => reject(new Error(`serve exited early (${code}): ${stderr}`)));
  });
  try {
    await started;
    child.kill('SIGTERM');
    return { code: await exited, stderr, stdout };
  } finally {
    child.kill('SIGKILL');
  }
}

describe('hermod serve', { timeout: 120_000 }, () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());
  const dataDir = join(tmp.dir, 'data');

  it('starts the listeners and exits 0 on SIGTERM after closing them; the banner shows the config in effect', async () => {
    const config = writeFile(tmp.dir, 'hermod.yaml', ['dataDir: data', 'lmtp: { port: 0 }', 'smtp: { port: 0 }', 'log: { level: info }'].join('\n'));
    const { code, stderr, stdout } = await serveOnce(config, { HERMOD_HOSTNAME: 'mx.example.test' });
    expect(code).toBe(0);
    // Log lines carry ISO-8601 times.
    const started = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg: string; time: unknown }).find((l) => l.msg === 'hermod started');
    expect(started?.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(stderr).toContain('Hermod is running.');
    expect(stderr).toContain(`  Config: ${config}, with HERMOD_HOSTNAME\n`);
    expect(stderr).toContain(`  Data: ${dataDir} (store: sqlite, search: sqlite, queue: sqlite)\n`);
    expect(stderr).toMatch(/ {2}LMTP listening on 127\.0\.0\.1:\d+\n {2}SMTP listening on 127\.0\.0\.1:\d+\n/);
    // An empty store: the first-message hints, with -c so they reach this store.
    expect(stderr).toContain(`  npx hermod -c ${config} domain add example.test\n`);
  });

  it('leaves the first-message hints out once the store has a domain', async () => {
    const config = join(tmp.dir, 'hermod.yaml');
    await withStore(dataDir, (store) => store.addDomain('example.test'));
    const { code, stderr } = await serveOnce(config);
    expect(code).toBe(0);
    expect(stderr).toContain('  Config: ');
    expect(stderr).not.toContain('domain add');
    expect(stderr).not.toContain('first message');
  });
});
