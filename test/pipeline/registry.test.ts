import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { builtinPlugins } from '../../plugins/index.js';
import { configSchema } from '../../src/config/schema.js';
import { loadPlugins, validatePluginChain } from '../../src/pipeline/registry.js';
import type { PluginManifest } from '../../src/pipeline/types.js';
import { SqliteMessageStore } from '../../src/store/sqlite/sqlite-message-store.js';

const log = pino({ level: 'silent' });
const entry = (name: string, config: Record<string, unknown> = {}) => ({ name, timeoutMs: 1000, failOpen: false, config });

const first: PluginManifest<{ level: number }> = {
  name: 'first',
  description: 'test plugin',
  configSchema: z.object({ level: z.number().int().default(1) }).strict(),
  hooks: { connect: () => undefined },
};
const second: PluginManifest = {
  name: 'second',
  description: 'test plugin that needs first',
  after: ['first'],
  configSchema: z.object({}),
  hooks: { message: () => undefined },
};
const typo = {
  name: 'typo',
  description: 'a hook name that is no stage',
  configSchema: z.object({}),
  hooks: { recipient: () => undefined },
} as unknown as PluginManifest;

describe('plugin registry refuses a bad chain at start-up, naming plugin and key', () => {
  const available = { first, second, typo };

  it('accepts a good chain and parses each config with defaults', () => {
    const chain = validatePluginChain([entry('first'), entry('second')], available);
    expect(chain.map((c) => c.config)).toEqual([{ level: 1 }, {}]);
  });

  it.each([
    [[entry('nope')], /plugins\[0\]\.name: unknown plugin 'nope'/],
    [[entry('typo')], /plugin 'typo': unknown stage 'recipient'/],
    [[entry('second')], /plugin 'second': needs plugin 'first' configured before it/],
    [[entry('second'), entry('first')], /plugin 'second': needs plugin 'first'/],
    [[entry('first', { level: 'high' })], /plugin 'first': config\.level: /],
    [[entry('first', { levle: 2 })], /plugin 'first': config: .*levle/],
    [[entry('first'), entry('first')], /configured twice/],
  ])('%j → %s', (entries, message) => {
    expect(() => validatePluginChain(entries, available)).toThrow(message);
  });

  it('init failures close the plugins already started and name the plugin', async () => {
    const closed: string[] = [];
    const ok: PluginManifest = { ...first, name: 'ok', close: () => void closed.push('ok') } as PluginManifest;
    const broken: PluginManifest = {
      ...second,
      name: 'broken',
      after: [],
      init: () => {
        throw new Error('cannot reach daemon');
      },
    };
    await expect(loadPlugins([entry('ok'), entry('broken')], { ok, broken }, { log, hostname: 'h' })).rejects.toThrow(
      /plugin 'broken': init failed: cannot reach daemon/,
    );
    expect(closed).toEqual(['ok']);
  });

  it('the default configuration loads the built-in chain, the learning filter included', async () => {
    const config = configSchema.parse({});
    const store = new SqliteMessageStore({ file: ':memory:' });
    await store.init();
    try {
      const loaded = await loadPlugins(config.plugins, builtinPlugins, { log, hostname: 'h', store });
      expect(loaded.map((p) => p.entry.name)).toEqual(['parse', 'spam', 'bayes', 'classify']);
    } finally {
      await store.close();
    }
  });

  it('an invalid built-in plugin config is named', () => {
    const config = configSchema.parse({ plugins: [{ name: 'parse' }, { name: 'spam', config: { nonsense: true } }] });
    expect(() => validatePluginChain(config.plugins, builtinPlugins)).toThrow(/plugin 'spam': config/);
  });
});
