import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanEnv, ROOT, runCli, tempDir } from './run-cli.js';

/**
 * Runs `hermod ...args` with its standard output closed by the reader before the command writes
 * (as `hermod domain list | head -0` does), and collects what it writes to stderr.
 */
function runWithClosedOutput(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], {
      cwd: ROOT,
      env: cleanEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stderr }));
  });
}

describe('hermod with its output closed early', () => {
  const tmp = tempDir();
  const env = { HERMOD_DATA_DIR: tmp.dir };
  afterAll(() => tmp.cleanup());

  it('finishes the command without a stack trace when the reader has gone', async () => {
    expect((await runCli(['domain', 'add', 'example.org'], env)).code).toBe(0);
    const result = await runWithClosedOutput(['domain', 'list'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});
