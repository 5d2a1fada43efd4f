import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './support/deployment.js';
import { run, shouldRun } from './support/tools.js';

/** The deployment files are checked the way an operator would before using them. */
const enabled = shouldRun('deployment lint');
const ansibleDir = join(REPO, 'ansible');

describe.skipIf(!enabled)('deployment files: static checks', { timeout: 180_000 }, () => {
  it.each(['single-host', 'cluster'])('ansible-playbook --syntax-check with inventory/%s', async (inventory) => {
    const result = await run('ansible-playbook', ['-i', `inventory/${inventory}`, '--syntax-check', 'site.yml'], {
      cwd: ansibleDir,
      timeoutMs: 120_000,
    });
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });

  it('ansible-lint passes (production profile)', async () => {
    const result = await run('ansible-lint', ['--offline', '--nocolor', '--profile', 'production'], {
      cwd: ansibleDir,
      timeoutMs: 170_000,
    });
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });

  it('haproxy/haproxy.cfg is valid for haproxy -c', async () => {
    const result = await run('haproxy', ['-c', '-f', join(REPO, 'haproxy/haproxy.cfg')]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });

  it('postfix/main.cf and master.cf parse without warnings', async () => {
    const main = await run('postconf', ['-c', join(REPO, 'postfix'), '-n']);
    expect(main.code, main.stderr).toBe(0);
    expect(main.stderr).toBe('');
    expect(main.stdout).toContain('virtual_transport = lmtp:inet:127.0.0.1:24');
    const master = await run('postconf', ['-c', join(REPO, 'postfix'), '-M']);
    expect(master.code, master.stderr).toBe(0);
    expect(master.stderr).toBe('');
    expect(master.stdout).toMatch(/^smtp +inet .* postscreen$/m);
  });
});
