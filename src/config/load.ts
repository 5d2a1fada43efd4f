import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { ConfigProblemsError, ConfigSource, type ConfigProblem } from './config-source.js';
import { envOverrides } from './env-overrides.js';
import { fileProblems } from './file-checks.js';
import { schemaProblems } from './schema-problems.js';
import { configSchema, type HermodConfig } from './schema.js';
import { semanticProblems } from './semantic-checks.js';

/** The file read when none is named: config/hermod.yaml under the working directory. */
export const DEFAULT_CONFIG_FILE = 'config/hermod.yaml';

/**
 * Keys that name files or directories. A relative value written in the config file resolves
 * against that file's directory (so a unit under systemd, whose working directory is /, finds
 * the same files as a shell in the checkout); a default, an environment value or an override
 * resolves against the working directory. The loaded config holds absolute paths only.
 */
export const PATH_KEYS: readonly (readonly string[])[] = [['dataDir'], ['tls', 'key'], ['tls', 'cert'], ['delivery', 'caFile'], ['ops', 'tls', 'key'], ['ops', 'tls', 'cert']];

export interface LoadConfigOptions {
  /** Config file; when omitted, config/hermod.yaml is read if it exists. */
  file?: string;
  /** Environment for HERMOD_* overrides. @defaultValue process.env */
  env?: NodeJS.ProcessEnv;
  /** Values applied last (CLI flags, tests). */
  overrides?: Record<string, unknown>;
  /**
   * Also check that the files `serve` reads (tls.key, tls.cert, delivery.caFile, and ops.tls.* when ops is enabled) are readable;
   * `serve` and `config check` do, admin commands need not. @defaultValue false
   */
  checkFiles?: boolean;
}

/** A validated, frozen config and where its values came from (for messages and `config show`). */
export interface LoadedConfig {
  config: HermodConfig;
  source: ConfigSource;
}

/**
 * Loads config from YAML, then HERMOD_* env (HERMOD_LMTP__PORT=2424 sets lmtp.port), then overrides;
 * validates once and freezes. Every problem names the key path and the file and line (or the
 * environment variable), and all of them are reported together.
 * @throws ConfigProblemsError
 */
export function loadConfig(options: LoadConfigOptions = {}): HermodConfig {
  return loadConfigWithSource(options).config;
}

/** Like {@link loadConfig}, also returning the source (file, lines, environment variables). */
export function loadConfigWithSource(options: LoadConfigOptions = {}): LoadedConfig {
  const file = options.file ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  const env = envOverrides(options.env ?? process.env, configSchema);
  const source = file ? ConfigSource.fromYaml(file, readText(file), env.sources) : ConfigSource.withoutFile(env.sources);
  const fromFile = source.values();
  if (typeof fromFile !== 'object' || fromFile === null || Array.isArray(fromFile)) {
    throw new ConfigError(`${file}: the top level must be a mapping of keys`);
  }
  const overrides = options.overrides ?? {};
  const merged = deepMerge(deepMerge(fromFile as Record<string, unknown>, env.values), overrides);
  const parsed = configSchema.safeParse(merged);
  const problems = parsed.success ? [] : schemaProblems(parsed.error, configSchema);
  // With schema faults, the cross-key checks still run on the rest (faulty keys at their
  // defaults), so one run reports a bad port type and a threshold out of order together.
  const config = parsed.success ? parsed.data : configSchema.safeParse(withoutFaults(merged, problems)).data;
  if (config) {
    resolvePaths(config, source, fromFile as Record<string, unknown>, overrides);
    problems.push(...semanticProblems(config, merged));
    if (options.checkFiles) problems.push(...fileProblems(config));
  }
  if (problems.length > 0 || !config) throw problemsError(source, problems);
  return { config: deepFreeze(config), source };
}

/** A copy of `merged` with each faulty key removed (a faulty list item removes its whole list). */
function withoutFaults(merged: Record<string, unknown>, problems: ConfigProblem[]): Record<string, unknown> {
  const copy = structuredClone(merged);
  for (const { path } of problems) {
    const firstIndex = path.findIndex((part) => typeof part === 'number');
    const key = (firstIndex >= 0 ? path.slice(0, firstIndex) : path).map(String);
    if (key.length === 0) continue;
    const parent = getPath(copy, key.slice(0, -1));
    if (typeof parent === 'object' && parent !== null) delete (parent as Record<string, unknown>)[key[key.length - 1]];
  }
  return copy;
}

function problemsError(source: ConfigSource, problems: ConfigProblem[]): ConfigProblemsError {
  return new ConfigProblemsError(problems.map((p) => source.describe(p)));
}

function readText(file: string): string {
  try {
    return readFileSync(resolve(file), 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read config file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function resolvePaths(
  config: HermodConfig,
  source: ConfigSource,
  fromFile: Record<string, unknown>,
  overrides: Record<string, unknown>,
): void {
  const fileDir = source.file ? dirname(resolve(source.file)) : process.cwd();
  for (const path of PATH_KEYS) {
    const value = getPath(config, path);
    if (typeof value !== 'string' || value === '' || isAbsolute(value)) continue;
    const writtenInFile =
      getPath(fromFile, path) === value && !source.envVariable(path) && getPath(overrides, path) === undefined;
    setPath(config, path, resolve(writtenInFile ? fileDir : process.cwd(), value));
  }
}

function getPath(root: unknown, path: readonly string[]): unknown {
  let node = root;
  for (const part of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function setPath(root: object, path: readonly string[], value: unknown): void {
  const parent = getPath(root, path.slice(0, -1)) as Record<string, unknown>;
  parent[path[path.length - 1]] = value;
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
