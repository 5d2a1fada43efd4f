import type { Command } from 'commander';
import { pino, type Logger } from 'pino';
import { loadConfigWithSource, type LoadedConfig } from '../config/load.js';
import type { HermodConfig } from '../config/schema.js';
import type { HermodServices } from '../services.js';

/** True when HERMOD_DEBUG is set to something other than "", "0" or "false". */
export function debugEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.HERMOD_DEBUG;
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

/** The global options every command sees. */
export interface GlobalOptions {
  config?: string;
}

/**
 * Loads the configuration for a command: the file from `FILE` (when given), else `-c/--config`
 * or HERMOD_CONFIG, else config/hermod.yaml when present; then HERMOD_* overrides.
 * @throws ConfigError naming the key and the file.
 */
export function loadCliConfig(command: Command, file?: string): HermodConfig {
  return loadCliConfigWithSource(command, file).config;
}

/**
 * Like {@link loadCliConfig}, also returning where each value came from; with `checkFiles`, the
 * files `serve` reads must be readable too.
 */
export function loadCliConfigWithSource(command: Command, file?: string, checkFiles = false): LoadedConfig {
  const globals = command.optsWithGlobals<GlobalOptions>();
  return loadConfigWithSource({ file: file ?? globals.config, checkFiles });
}

/**
 * The logger for admin commands: warnings and errors only, on stderr, so stdout carries just the
 * command's output (tables, JSON, raw bytes). HERMOD_DEBUG=1 turns on debug logging.
 */
export function createCliLogger(): Logger {
  return pino(
    { level: debugEnabled() ? 'debug' : 'warn', base: { service: 'hermod-cli' }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ dest: 2, sync: true }),
  );
}

/**
 * Opens the store and search index, runs `fn`, and closes them again, also when `fn` throws.
 * The services module is imported here, not at the top, so `--help` and `config check` work
 * without loading the storage engines.
 */
export async function withServices<T>(
  config: HermodConfig,
  fn: (services: HermodServices) => Promise<T>,
): Promise<T> {
  const { openServices } = await import('../services.js');
  const services = await openServices(config, createCliLogger());
  try {
    return await fn(services);
  } finally {
    await services.close();
  }
}
