import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: tests run the CLI from its sources with tsx. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'src/cli/main.ts');

/** What one run of the CLI produced. */
export interface CliResult {
  code: number;
  stdout: string;
  /** stdout as bytes, for --raw. */
  stdoutBytes: Buffer;
  stderr: string;
}

/** The parent's environment without HERMOD_* variables, so a developer's settings cannot leak in. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('HERMOD_')) env[k] = v;
  return { ...env, ...extra };
}

/**
 * Runs `hermod ...args` as a subprocess (`node --import tsx src/cli/main.ts`) from the repository
 * root, with `env` added to a clean environment (e.g. HERMOD_DATA_DIR). Killed after `timeoutMs`.
 */
export function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 20_000): Promise<CliResult> {
  return new Promise((done, fail) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', MAIN, ...args],
      { cwd: ROOT, env: cleanEnv(env), encoding: 'buffer', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') return fail(err);
        done({
          code: err ? (err.code as number) : 0,
          stdout: stdout.toString('utf8'),
          stdoutBytes: stdout,
          stderr: stderr.toString('utf8'),
        });
      },
    );
  });
}

/** A fresh temporary directory; `cleanup()` removes it. */
export function tempDir(prefix = 'hermod-cli-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes `text` to `name` under `dir` and returns the path. */
export function writeFile(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/**
 * Asserts the shape every CLI error must have: exactly one line on stderr, starting "hermod: ",
 * and no stack frames. Returns the line.
 */
export function errorLine(result: CliResult): string {
  const lines = result.stderr.split('\n').filter((l) => l.trim() !== '');
  if (lines.length !== 1) throw new Error(`expected one stderr line, got:\n${result.stderr}`);
  if (!lines[0].startsWith('hermod: ')) throw new Error(`expected "hermod: " prefix, got: ${lines[0]}`);
  if (/^\s+at /m.test(result.stderr)) throw new Error(`stack trace on stderr:\n${result.stderr}`);
  return lines[0];
}
