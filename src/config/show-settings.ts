import type { ConfigSource } from './config-source.js';
import { PATH_KEYS } from './load.js';
import { configSchema, type HermodConfig } from './schema.js';

/** Last key segments whose values are secrets: shown as `********`. */
const SECRET_KEY = /(password|passwd|pass|secret|token|apikey)$/i;
const MASK = '********';

/** One effective setting: its dotted key, its value as text, and the variable that set it. */
export interface Setting {
  key: string;
  value: string;
  env?: string;
}

/**
 * The effective settings after environment overrides, like `postconf -n`: only keys whose value
 * differs from the built-in default (all of them with `all`), plus the paths, which are always
 * shown resolved. Secrets (passwords, credentials inside URLs) are masked.
 */
export function effectiveSettings(config: HermodConfig, source: ConfigSource, options: { all?: boolean } = {}): Setting[] {
  const defaults = new Map(flatten(configSchema.parse({})).map((s) => [s.key, s.value]));
  const paths = new Set(PATH_KEYS.map((p) => p.join('.')));
  return flatten(config)
    .filter((s) => options.all || paths.has(s.key) || defaults.get(s.key) !== s.value)
    .map((s) => {
      const env = source.envVariable(s.key.split('.'));
      return env ? { ...s, env } : s;
    });
}

function flatten(value: unknown, prefix: string[] = []): Setting[] {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0 && prefix.length > 0) return [{ key: prefix.join('.'), value: '{}' }];
    return entries.flatMap(([k, v]) => flatten(v, [...prefix, k]));
  }
  const key = prefix.join('.');
  return [{ key, value: SECRET_KEY.test(prefix[prefix.length - 1] ?? '') && value !== undefined ? MASK : show(value) }];
}

function show(value: unknown): string {
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v !== 'object' || v === null)) return value.map((v) => maskUrl(String(v))).join(', ');
    return JSON.stringify(value, (k, v: unknown) => (SECRET_KEY.test(k) ? MASK : v));
  }
  if (value === null) return 'null';
  return maskUrl(String(value));
}

/** `redis://user:secret@host` → `redis://user:********@host`. */
function maskUrl(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/@:\s]*):([^/@\s]*)@/i, `$1$2:${MASK}@`);
}
