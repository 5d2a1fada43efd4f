import { accessSync, constants, statSync } from 'node:fs';
import type { ConfigProblem } from './config-source.js';
import type { HermodConfig } from './schema.js';

/**
 * The files `serve` reads at start-up must exist, be regular files and be readable by this
 * process. Run by `serve` before it opens anything and by `hermod config check`, so both refuse
 * the same configuration. (Admin commands skip it: `message list` needs no TLS key.)
 */
export function fileProblems(config: HermodConfig): ConfigProblem[] {
  const files: [string[], string | undefined][] = [
    [['tls', 'key'], config.tls.key],
    [['tls', 'cert'], config.tls.cert],
    [['delivery', 'caFile'], config.delivery.caFile],
  ];
  const problems: ConfigProblem[] = [];
  for (const [path, file] of files) {
    if (!file) continue;
    const problem = unreadable(file);
    if (problem) problems.push({ path, message: `${file}: ${problem}` });
  }
  return problems;
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
