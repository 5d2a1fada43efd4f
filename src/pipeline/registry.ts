import type { Logger } from 'pino';
import type { PluginEntry } from '../config/schema.js';
import { PluginError } from '../errors.js';
import { STAGES, type PluginDeps, type PluginManifest, type Stage } from './types.js';

/** A plugin ready to run: its manifest, its validated config, its state from init. */
export interface LoadedPlugin {
  manifest: PluginManifest<unknown, unknown>;
  entry: PluginEntry;
  config: unknown;
  state: unknown;
}

const KNOWN_STAGES = new Set<string>(STAGES);

/**
 * Checks the configured chain against the available manifests without starting anything:
 * unknown plugin, unknown stage, a dependency not configured before its dependant, invalid
 * plugin config. Returns each plugin's parsed config. Errors name the plugin and the key.
 */
export function validatePluginChain(
  entries: readonly PluginEntry[],
  available: Record<string, PluginManifest<any, any>>,
): { manifest: PluginManifest<unknown, unknown>; entry: PluginEntry; config: unknown }[] {
  const seen = new Set<string>();
  return entries.map((entry, i) => {
    const manifest = available[entry.name];
    if (!manifest) {
      const names = Object.keys(available).join(', ');
      throw new PluginError(`plugins[${i}].name: unknown plugin '${entry.name}' (available: ${names})`);
    }
    if (seen.has(entry.name)) throw new PluginError(`plugins[${i}]: plugin '${entry.name}' is configured twice`);
    for (const stage of Object.keys(manifest.hooks)) {
      if (!KNOWN_STAGES.has(stage)) {
        throw new PluginError(`plugin '${entry.name}': unknown stage '${stage}' (stages: ${STAGES.join(', ')})`);
      }
    }
    for (const dep of manifest.after ?? []) {
      if (!seen.has(dep)) {
        throw new PluginError(`plugin '${entry.name}': needs plugin '${dep}' configured before it`);
      }
    }
    seen.add(entry.name);
    const parsed = manifest.configSchema.safeParse(entry.config ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const key = ['config', ...issue.path].join('.');
      throw new PluginError(`plugin '${entry.name}': ${key}: ${issue.message}`);
    }
    return { manifest: manifest as PluginManifest<unknown, unknown>, entry, config: parsed.data };
  });
}

/** Validates the chain, then runs each plugin's init in order. */
export async function loadPlugins(
  entries: readonly PluginEntry[],
  available: Record<string, PluginManifest<any, any>>,
  deps: PluginDeps,
): Promise<LoadedPlugin[]> {
  const loaded: LoadedPlugin[] = [];
  for (const { manifest, entry, config } of validatePluginChain(entries, available)) {
    try {
      const state = manifest.init ? await manifest.init(config, deps) : undefined;
      loaded.push({ manifest, entry, config, state });
    } catch (err) {
      await closePlugins(loaded, deps.log);
      throw new PluginError(`plugin '${entry.name}': init failed: ${(err as Error).message}`, { cause: err });
    }
  }
  return loaded;
}

/** Closes plugins in reverse order; a failing close is logged, never thrown. */
export async function closePlugins(plugins: LoadedPlugin[], log: Logger): Promise<void> {
  for (const plugin of [...plugins].reverse()) {
    try {
      await plugin.manifest.close?.(plugin.state);
    } catch (err) {
      log.warn({ plugin: plugin.entry.name, err }, 'plugin close failed');
    }
  }
}

/** The stages at least one plugin hooks, for cheap skipping. */
export function hookedStages(plugins: LoadedPlugin[]): Set<Stage> {
  return new Set(plugins.flatMap((p) => Object.keys(p.manifest.hooks) as Stage[]));
}
