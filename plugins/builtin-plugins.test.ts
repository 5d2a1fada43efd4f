import { describe, expect, it } from 'vitest';
import { STAGES } from '../src/pipeline/types.js';
import { builtinPlugins } from './index.js';

describe('builtinPlugins', () => {
  it('lists parse, spam, bayes and classify under their own names', () => {
    expect(Object.keys(builtinPlugins)).toEqual(expect.arrayContaining(['parse', 'spam', 'bayes', 'classify']));
    for (const [key, manifest] of Object.entries(builtinPlugins)) expect(manifest.name).toBe(key);
  });

  it.each(Object.values(builtinPlugins))('$name: config defaults, known stages, dependencies present', (manifest) => {
    expect(() => manifest.configSchema.parse({})).not.toThrow();
    for (const stage of Object.keys(manifest.hooks)) expect(STAGES).toContain(stage);
    for (const dep of manifest.after ?? []) expect(Object.keys(builtinPlugins)).toContain(dep);
    expect(manifest.description.length).toBeGreaterThan(10);
  });
});
