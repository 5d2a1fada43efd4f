export { configSchema, type HermodConfig, type PluginEntry, type ScoringConfig } from './schema.js';
export {
  loadConfig,
  loadConfigWithSource,
  DEFAULT_CONFIG_FILE,
  PATH_KEYS,
  type LoadConfigOptions,
  type LoadedConfig,
} from './load.js';
export { ConfigProblemsError, ConfigSource, type ConfigProblem } from './config-source.js';
export { effectiveSettings } from './show-settings.js';
