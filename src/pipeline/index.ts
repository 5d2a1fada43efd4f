export * from './types.js';
export { PluginRunner, type StageInput, type PluginMetrics } from './runner.js';
export { loadPlugins, closePlugins, validatePluginChain, type LoadedPlugin } from './registry.js';
export { decide, describeDecision, thresholdsFor, type Decision, type Thresholds } from './decision.js';
