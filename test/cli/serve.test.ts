import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, tempDir, writeFile } from './run-cli.js';

describe('hermod serve', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('starts the listeners and exits 0 on SIGTERM after closing them', async () => {
    const config = writeFile(
      tmp.dir,
      'hermod.yaml',
      [`dataDir: ${join(tmp.dir, 'data')}`, 'lmtp: { port: 0 }', 'smtp: { port: 0 }', 'log: { level: warn }'].join('\n'),
    );
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('HERMOD_')) env[k] = v;
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), '-c', config, 'serve'], {
      cwd: ROOT,
      env,
    });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const started = new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('LMTP listening on')) resolve();
      });
      void exited.then((code) => reject(new Error(`serve exited early (${code}): ${stderr}`)));
    });
    try {
      await started;
      child.kill('SIGTERM');
      const code = await exited;
      expect({ code, stderr }).toEqual({ code: 0, stderr: expect.stringContaining('Hermod is running.') });
    } finally {
      child.kill('SIGKILL');
    }
  });
});
