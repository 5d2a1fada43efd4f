import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteMessageStore } from '../../src/store/sqlite/sqlite-message-store.js';
import { describePasswordContract } from '../contract/message-store-passwords.contract.js';

describePasswordContract('SQLite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hermod-pw-'));
  const store = new SqliteMessageStore({ file: join(dir, 'hermod.sqlite') });
  await store.init();
  return { store, cleanup: async () => (await store.close(), await rm(dir, { recursive: true, force: true })) };
});
