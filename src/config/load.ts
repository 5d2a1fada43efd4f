import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { configSchema, type HermodConfig } from './schema.js';

/** The file read when none is named: config/hermod.yaml under the working directory. */
export const DEFAULT_CONFIG_FILE = 'config/hermod.yaml';

export interface LoadConfigOptions {
  /** Config file; when omitted, config/hermod.yaml is read if it exists. */
  file?: string;
  /** Environment for HERMOD_* overrides. @defaultValue process.env */
  env?: NodeJS.ProcessEnv;
  /** Values applied last (CLI flags, tests). */
  overrides?: Record<string, unknown>;
}

/**
 * Loads config from YAML, then HERMOD_* env (HERMOD_LMTP__PORT=2424 sets lmtp.port), then overrides;
 * validates once and freezes. Every error names the key path and the file.
 */
export function loadConfig(options: LoadConfigOptions = {}): HermodConfig {
  const file = options.file ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  const fromFile = file ? readYaml(file) : {};
  const merged = deepMerge(deepMerge(fromFile, envOverrides(options.env ?? process.env)), options.overrides ?? {});
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) throw new ConfigError(describeIssue(parsed.error, file));
  return deepFreeze(parsed.data);
}

function readYaml(file: string): Record<string, unknown> {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read config file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    const line = first.linePos?.[0]?.line;
    throw new ConfigError(`${file}${line ? `:${line}` : ''}: invalid YAML: ${first.message.split('\n')[0]}`);
  }
  const value = doc.toJS() ?? {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(`${file}: the top level must be a mapping of keys`);
  }
  return value as Record<string, unknown>;
}

/**
 * HERMOD_SMTP__PORT=2526 → { smtp: { port: 2526 } }; values are parsed as YAML scalars. Only
 * variables whose first part names a top-level config key count: HERMOD_DEBUG, HERMOD_CONFIG,
 * HERMOD_TEST_* and the service scripts' HERMOD_REDIS_PORT and the like steer other things.
 */
function envOverrides(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const topLevel = new Set(Object.keys(configSchema.shape));
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(env)) {
    if (!key.startsWith('HERMOD_') || raw === undefined) continue;
    const path = key.slice('HERMOD_'.length).toLowerCase().split('__').map(camelCase);
    if (!topLevel.has(path[0])) continue;
    let node = out;
    for (const part of path.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    node[path[path.length - 1]] = parseDocument(raw).toJS();
  }
  return out;
}

function camelCase(s: string): string {
  return s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

function describeIssue(error: z.ZodError, file: string | undefined): string {
  const issue = error.issues[0];
  const path = issue.path.join('.') || '(top level)';
  const where = file ?? 'configuration';
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (issue.path.length ? `${path}.${k}` : k)).join(', ');
    return `${where}: unknown key ${keys}`;
  }
  return `${where}: ${path}: ${issue.message}`;
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? deepMerge(b, v) : v;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
