/**
 * vitest globalSetup: the distributed engines' tests run against real servers, never skipped.
 * Before any test file runs, `scripts/services up` starts Redis, Cassandra and Elasticsearch on
 * loopback (idempotent: a running server is left alone), and the HERMOD_TEST_* variables the
 * tests read are taken from `scripts/services env` unless already set — so pointing a variable
 * at another server (HERMOD_TEST_ELASTICSEARCH=http://es:9200 npm test) still works.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SERVICES = fileURLToPath(new URL('../scripts/services', import.meta.url));

/** `export NAME=value` lines → { NAME: value }. */
function parseExports(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]] = m[2].replace(/^'(.*)'$/, '$1').replace(/^"(.*)"$/, '$1');
  }
  return out;
}

export default function setup(): void {
  if (process.env.HERMOD_TEST_SERVICES !== 'external') {
    // stdio inherit: starting Cassandra the first time takes minutes; show why the run waits.
    execFileSync('bash', [SERVICES, 'up'], { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  const env = parseExports(execFileSync('bash', [SERVICES, 'env'], { encoding: 'utf8' }));
  for (const [name, value] of Object.entries(env)) process.env[name] ??= value;
}
