import type { PluginManifest } from '../src/pipeline/types.js';
import classify from './classify/index.js';
import parse from './parse/index.js';
import spam from './spam/index.js';

/** The plugins shipped with Hermod, by the name used in the `plugins` config list. */
export const builtinPlugins: Record<string, PluginManifest<any, any>> = {
  parse,
  spam,
  classify,
};
