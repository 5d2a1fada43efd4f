/**
 * Several Hermod nodes may share one SQLite data directory (one host, a rolling restart, a
 * supervisor that starts two at once). Opening and migrating a new file must then be safe when
 * they all do it at the same moment: one waits for the other's lock and finds the schema made.
 * Both tests run the built code (dist/, as installed; `npm install` builds it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../cli/run-cli.js';

const DIST = join(ROOT, 'dist/src');

/** Opens the file given on the command line and migrates it once "go" arrives on stdin. */
const MIGRATE_ON_SIGNAL = `
const [file, kind] = process.argv.slice(1);
const { openDatabase } = await import(${JSON.stringify(join(DIST, 'store/sqlite/open-database.js'))});
const { applyMigrations, MIGRATIONS } = await import(${JSON.stringify(join(DIST, 'store/sqlite/migrations.js'))});
const { QUEUE_MIGRATIONS } = await import(${JSON.stringify(join(DIST, 'queue/sqlite/queue-schema.js'))});
process.stdout.write('ready\\n');
process.stdin.once('data', () => {
  try {
    const db = openDatabase(file, 5000);
    applyMigrations(db, kind === 'queue' ? QUEUE_MIGRATIONS : MIGRATIONS);
    db.close();
    process.stdout.write('migrated\\n');
  } catch (err) {
    process.stderr.write(String(err.code) + ' ' + err.message);
    process.exitCode = 1;
  }
  process.stdin.destroy();
});
`;

interface Child {
  process: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function start(args: string[]): Child {
  // Without HERMOD_* variables, so a developer's settings cannot leak in.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HERMOD_')));
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { process: child, stdout: () => out, stderr: () => err, exited };
}

/** Resolves when `seen()` holds; rejects (with the child's stderr) when the child exits first. */
async function until(child: Child, seen: () => boolean, what: string): Promise<void> {
  let exitCode: number | null | undefined;
  void child.exited.then((code) => (exitCode = code));
  for (let waited = 0; waited < 60_000; waited += 20) {
    if (seen()) return;
    if (exitCode !== undefined) throw new Error(`exited with code ${exitCode} before ${what}: ${child.stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no ${what} within 60 s: ${child.stderr()}`);
}

describe('one SQLite file shared by nodes that start together', { timeout: 180_000 }, () => {
  const tmp = tempDir('hermod-shared-');
  afterAll(() => tmp.cleanup());

  it.each(['store', 'queue'])('two processes migrating a new %s file at the same instant both succeed', async (kind) => {
    for (let round = 0; round < 6; round++) {
      const file = join(tmp.dir, `${kind}-${round}.sqlite`);
      const pair = [0, 1].map(() => start(['--input-type=module', '-e', MIGRATE_ON_SIGNAL, file, kind]));
      await Promise.all(pair.map((c) => until(c, () => c.stdout().includes('ready'), 'ready')));
      // Both are loaded and waiting; one write to each releases them together.
      for (const c of pair) c.process.stdin!.write('go\n');
      const codes = await Promise.all(pair.map((c) => c.exited));
      expect({ round, codes, errors: pair.map((c) => c.stderr()) }).toEqual({ round, codes: [0, 0], errors: ['', ''] });
    }
  });

  it('two nodes started at once on one data dir both become ready, several times over', async () => {
    for (let round = 0; round < 3; round++) {
      const dir = join(tmp.dir, `nodes-${round}`);
      mkdirSync(dir);
      const config = join(dir, 'hermod.yaml');
      writeFileSync(config, ['dataDir: data', 'lmtp: { host: 127.0.0.1, port: 0 }', 'smtp: { host: 127.0.0.1, port: 0 }', 'log: { level: info }'].join('\n'));
      const nodes = [0, 1].map(() => start([join(DIST, 'cli/main.js'), '-c', config, 'serve']));
      try {
        await Promise.all(nodes.map((n) => until(n, () => n.stdout().includes('"msg":"hermod started"'), 'hermod started')));
      } finally {
        for (const n of nodes) n.process.kill('SIGTERM');
      }
      expect(await Promise.all(nodes.map((n) => n.exited))).toEqual([0, 0]);
    }
  });
});
