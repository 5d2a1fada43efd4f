import { createHash } from 'node:crypto';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from '../../src/config/load.js';
import type { LoadedPlugin } from '../../src/pipeline/registry.js';
import { PluginRunner } from '../../src/pipeline/runner.js';
import type { PluginManifest } from '../../src/pipeline/types.js';
import { SqliteMessageStore } from '../../src/store/sqlite/sqlite-message-store.js';
import { TransactionCore } from '../../src/transaction/transaction-core.js';
import { makeSession } from '../helpers/plugin-context.js';
import { largeRawMessage } from '../store/delivery-fixture.js';

/** What the data-stage plugin saw through `rawStream`, read twice to show each call is a new stream. */
const seen: { first: Buffer; second: Buffer; raw: Buffer | undefined }[] = [];

const streamReader: PluginManifest = {
  name: 'stream-reader',
  description: 'reads the message through rawStream, as a stream parser would',
  configSchema: z.object({}),
  hooks: {
    async data(ctx) {
      const read = async () => Buffer.concat(await ctx.transaction.rawStream!().toArray());
      seen.push({ first: await read(), second: await read(), raw: ctx.transaction.raw });
    },
  },
};

describe('the transaction hands plugins the message as a stream', () => {
  let store: SqliteMessageStore;
  let core: TransactionCore;

  beforeEach(async () => {
    seen.length = 0;
    store = new SqliteMessageStore({ file: ':memory:' });
    await store.init();
    await store.addDomain('example.com');
    await store.addMailbox({ address: 'alice@example.com', quotaBytes: 0 });
    const log = pino({ level: 'silent' });
    const config = loadConfig({ env: {}, file: undefined, overrides: { plugins: [] } });
    const plugin: LoadedPlugin = {
      manifest: streamReader,
      entry: { name: streamReader.name, timeoutMs: 5000, failOpen: false, config: {} },
      config: {},
      state: undefined,
    };
    core = new TransactionCore({ directory: store, entries: store, runner: new PluginRunner([plugin], log), config, log });
  });
  afterEach(async () => {
    await store.close();
  });

  async function deliver(message: Parameters<TransactionCore['deliver']>[1]) {
    const { open } = await core.open('local', makeSession(), `t${seen.length}`, 'bob@remote.test');
    expect(await core.addRecipient(open, 'alice@example.com')).toBeNull();
    return core.deliver(open, message);
  }

  it('yields exactly the received bytes, anew at every call, for a message the intake hashed', async () => {
    const raw = largeRawMessage(300 * 1024);
    const sha256 = createHash('sha256').update(raw).digest('hex');
    const report = await deliver({ raw, sha256 });
    expect(report.replies[0].code).toBe(250);
    expect(seen).toHaveLength(1);
    expect(seen[0].first.equals(raw)).toBe(true);
    expect(seen[0].second.equals(raw)).toBe(true);
    // transaction.raw is the very Buffer the intake read, not a copy.
    expect(seen[0].raw).toBe(raw);
    const [entry] = await store.listEntries({ mailboxId: (await store.resolveAddress('alice@example.com'))!.id, limit: 1 });
    expect(entry.sha256).toBe(sha256);
  });

  it('yields the bytes of a message handed in as a Buffer (the queue’s local deliveries)', async () => {
    const raw = largeRawMessage(1000);
    await deliver(raw);
    expect(seen[0].first.equals(raw)).toBe(true);
  });
});
