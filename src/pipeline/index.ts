export * from './types.js';
export { PluginRunner, type StageInput } from './runner.js';
export { loadPlugins, closePlugins, validatePluginChain, type LoadedPlugin } from './registry.js';
export { decide, type Decision } from './decision.js';
export { MessageProcessor, type RecipientOutcome, type ProcessResult } from './message-processor.js';
