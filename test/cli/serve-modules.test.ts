import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, tempDir, writeFile } from './run-cli.js';

/**
 * Records every module the child loads. ESM imports (static and dynamic, including the entry of a
 * CommonJS package imported from ESM) pass through the resolve hook, which appends each URL as it
 * is resolved; `require` calls inside CommonJS packages do not, so at exit the CommonJS cache is
 * written too. Between them every package the process touched is named.
 */
const HOOKS = `
import { appendFileSync } from 'node:fs';
let out;
export function initialize(data) { out = data.file; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(out, result.url + '\\n');
  return result;
}
`;

const PRELOAD = (hooksUrl: string, esmFile: string, cjsFile: string): string => `
import { register, createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
register(${JSON.stringify(hooksUrl)}, { data: { file: ${JSON.stringify(esmFile)} } });
process.on('exit', () => {
  writeFileSync(${JSON.stringify(cjsFile)}, Object.keys(createRequire(import.meta.url).cache).join('\\n'));
});
`;

/** The package a module path or URL belongs to (the part after its last node_modules/), if any. */
function packageOf(path: string): string | undefined {
  const at = path.lastIndexOf('/node_modules/');
  if (at < 0) return undefined;
  const parts = path.slice(at + '/node_modules/'.length).split('/');
  return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}

/** Starts `hermod serve` with the recording preload, waits for the banner, stops it; returns the packages it loaded. */
async function packagesLoadedByServe(dir: string, config: string): Promise<Set<string>> {
  const esmFile = join(dir, 'loaded-esm.txt');
  const cjsFile = join(dir, 'loaded-cjs.txt');
  const hooks = writeFile(dir, 'record-hooks.mjs', HOOKS);
  const preload = writeFile(dir, 'record-preload.mjs', PRELOAD(pathToFileURL(hooks).href, esmFile, cjsFile));
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('HERMOD_')) env[k] = v;
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', pathToFileURL(preload).href, join(ROOT, 'src/cli/main.ts'), '-c', config, 'serve'], {
    cwd: ROOT,
    env,
  });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('Hermod is running.') && /LMTP listening on[^\n]*\n/.test(stderr)) resolve();
      });
      void exited.then((code) => reject(new Error(`serve exited early (${code}): ${stderr}`)));
    });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  } finally {
    child.kill('SIGKILL');
  }
  const lines = [esmFile, cjsFile].flatMap((f) => (existsSync(f) ? readFileSync(f, 'utf8').split('\n') : []));
  return new Set(lines.map(packageOf).filter((p): p is string => p !== undefined));
}

describe('hermod serve on the embedded default', { timeout: 120_000 }, () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('never loads the drivers and clients the config does not use', async () => {
    const config = writeFile(tmp.dir, 'hermod.yaml', ['dataDir: data', 'lmtp: { port: 0 }', 'smtp: { port: 0 }', 'log: { level: warn }'].join('\n'));
    const loaded = await packagesLoadedByServe(tmp.dir, config);
    // The recording sees what the default does use: the listener, the store, the config schema.
    expect([...loaded]).toEqual(expect.arrayContaining(['smtp-server', 'better-sqlite3', 'zod']));
    const unused = [
      'cassandra-driver', // store.driver: cassandra
      '@elastic/elasticsearch', // search.driver: elasticsearch
      'bullmq', // queue.driver: bullmq
      'ioredis', // bullmq, or a plugin keeping state in Redis
      'mailauth', // the auth plugin, or DKIM signing of a message with a key
      'rate-limiter-flexible', // the ratelimit plugin
      'prom-client', // ops.enabled
      'mx-connect', // the first message to a remote domain
      'cli-progress', // the admin commands' progress bars: serve imports no other command's module
      'mailparser', // loaded with the first message (parse, spam, Bayes, the indexer), not by an idle server
    ];
    expect(unused.filter((p) => loaded.has(p))).toEqual([]);
  });
});
