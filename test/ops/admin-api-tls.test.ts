import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHermod, type Harness } from '../helpers/hermod-harness.js';
import { runCli } from '../cli/run-cli.js';
import { api } from './api-client.js';

let dir: string;
let tls: { cert: string; key: string };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hermod-ops-tls-'));
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048 });
  tls = { key: join(dir, 'key.pem'), cert: join(dir, 'cert.pem') };
  writeFileSync(tls.key, pems.private);
  writeFileSync(tls.cert, pems.cert);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function plainStatus(port: number): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => resolve(String(res.statusCode)));
    req.on('error', (err) => resolve((err as NodeJS.ErrnoException).code ?? err.message));
    req.end();
  });
}

describe('ops listener with a certificate', () => {
  let hermod: Harness;
  afterAll(async () => {
    await hermod?.stop();
  });

  it('serves the admin API and /metrics over HTTPS only, with a token made by hermod token create', async () => {
    hermod = await startHermod({ ops: { enabled: true, port: 0, tls, api: { enabled: true } } });
    const port = hermod.server.ops!.port;
    const created = await runCli(['token', 'create', '--scope', 'domains:read', '--name', 'tls test', '--json'], { HERMOD_DATA_DIR: hermod.config.dataDir });
    expect(created.stderr).toBe('');
    const { token, scopes } = JSON.parse(created.stdout) as { token: string; scopes: string[] };
    expect(scopes).toEqual(['domains:read']);
    const reply = await api(port, 'GET', '/api/v1/domains', { token, tls: true });
    expect(reply.status).toBe(200);
    expect(reply.json.map((d: { name: string }) => d.name)).toEqual(['example.test']);
    expect((await api(port, 'GET', '/api/v1/mailboxes', { token, tls: true })).status).toBe(403);
    const metrics = await api(port, 'GET', '/metrics', { tls: true });
    expect(metrics.status).toBe(200);
    expect(metrics.json).toContain('hermod_ready 1');
    expect(await plainStatus(port)).not.toBe('200');
    const listed = await runCli(['token', 'list', '--json'], { HERMOD_DATA_DIR: hermod.config.dataDir });
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ name: 'tls test', scopes: ['domains:read'] })]);
    expect(listed.stdout).not.toContain(token);
  }, 120_000);
});

describe('admin API start-up checks', () => {
  it('is off by default: /api answers 404 and no token is needed to know that', async () => {
    const hermod = await startHermod({ ops: { enabled: true, port: 0 } });
    try {
      const reply = await api(hermod.server.ops!.port, 'GET', '/api/v1/domains');
      expect(reply.status).toBe(404);
    } finally {
      await hermod.stop();
    }
  });

  it('refuses to serve bearer tokens in clear text on a non-loopback address', async () => {
    await expect(startHermod({ ops: { enabled: true, host: '0.0.0.0', port: 0, api: { enabled: true } } })).rejects.toThrow(
      /ops\.api\.enabled on ops\.host 0\.0\.0\.0 \(not loopback\) needs ops\.tls\.cert and ops\.tls\.key/,
    );
  });

  it('names the key when only one TLS file is set or a file cannot be read', async () => {
    await expect(startHermod({ ops: { enabled: true, port: 0, tls: { cert: tls.cert } } })).rejects.toThrow(/ops\.tls: set both cert and key/);
    await expect(startHermod({ ops: { enabled: true, port: 0, tls: { cert: tls.cert, key: join(dir, 'nope.pem') } } })).rejects.toThrow(
      /ops\.tls\.key: cannot read .*nope\.pem: ENOENT/,
    );
  });

  it('rejects an unknown scope with a one-line error naming --scope (exit 2)', async () => {
    const run = await runCli(['token', 'create', '--scope', 'queue:admin'], { HERMOD_DATA_DIR: dir });
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain('--scope: unknown scope "queue:admin"');
  }, 60_000);
});
