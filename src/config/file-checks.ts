import { accessSync, constants, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ConfigProblem } from './config-source.js';
import type { HermodConfig } from './schema.js';

/**
 * The files `serve` reads at start-up must exist, be regular files and be readable by this
 * process, and dataDir must be a directory it can write. Run by `serve` before it opens anything and by `hermod config check`, so both refuse
 * the same configuration. (Admin commands skip it: `message list` needs no TLS key.)
 */
export function fileProblems(config: HermodConfig): ConfigProblem[] {
  const files: [string[], string | undefined][] = [
    [['tls', 'key'], config.tls.key],
    [['tls', 'cert'], config.tls.cert],
    [['delivery', 'caFile'], config.delivery.caFile],
    // The ops listener's files matter only when it is opened.
    [['ops', 'tls', 'cert'], config.ops.enabled ? config.ops.tls.cert : undefined],
    [['ops', 'tls', 'key'], config.ops.enabled ? config.ops.tls.key : undefined],
  ];
  const problems: ConfigProblem[] = [];
  for (const [path, file] of files) {
    if (!file) continue;
    const problem = unreadable(file);
    if (problem) problems.push({ path, message: `${file}: ${problem}` });
  }
  const dataDir = unwritableDir(config.dataDir);
  if (dataDir) problems.push({ path: ['dataDir'], message: `${config.dataDir}: ${dataDir}` });
  return problems;
}

/**
 * `serve` creates dataDir when missing and writes its SQLite files and checkpoints there: it must
 * be a writable directory, or creatable in the nearest directory that exists.
 */
function unwritableDir(dir: string): string | null {
  let path = dir;
  for (let depth = 0; depth < 64; depth++) {
    try {
      if (!statSync(path).isDirectory()) return path === dir ? 'not a directory' : `${path} is not a directory`;
      accessSync(path, constants.W_OK | constants.X_OK);
      return null;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EACCES') return path === dir ? 'not writable by this user' : `cannot be created: ${path} is not writable by this user`;
      if (code === 'ENOTDIR') return 'cannot be created: a parent is a file, not a directory';
      if (code !== 'ENOENT') return `cannot be used (${code ?? 'error'})`;
      if (dirname(path) === path) return 'cannot be created';
      path = dirname(path);
    }
  }
  return null;
}

function unreadable(file: string): string | null {
  try {
    if (!statSync(file).isFile()) return 'not a regular file';
    accessSync(file, constants.R_OK);
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'no such file';
    if (code === 'EACCES') return 'not readable by this user';
    return `cannot read (${code ?? 'error'})`;
  }
}
