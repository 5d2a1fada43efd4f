export { configSchema, type HermodConfig, type PluginEntry, type ScoringConfig } from './schema.js';
export { loadConfig, DEFAULT_CONFIG_FILE, type LoadConfigOptions } from './load.js';
