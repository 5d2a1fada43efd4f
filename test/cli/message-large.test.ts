import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { largeRawMessage } from '../store/delivery-fixture.js';
import { runCli, tempDir } from './run-cli.js';
import { seedMessages, withStore } from './seed-store.js';

/** A message above store.sqlite.fileThresholdBytes: the CLI reads and deletes it through its file. */
describe('hermod message show and delete on a message kept as a file', { timeout: 180_000 }, () => {
  const tmp = tempDir();
  const dataDir = join(tmp.dir, 'data');
  const env = { HERMOD_DATA_DIR: dataDir };
  const cli = (...args: string[]) => runCli(args, env, 60_000);
  const raw = largeRawMessage(3 * 1024 * 1024);
  let id = '';
  let sha256 = '';

  beforeAll(async () => {
    [id] = await withStore(dataDir, async (store) => {
      await store.addDomain('example.test');
      const alice = await store.addMailbox({ address: 'alice@example.test', quotaBytes: 0 });
      return seedMessages(store, alice, [{ raw }]);
    });
    sha256 = (await withStore(dataDir, (store) => store.getEntry(id)))!.sha256;
  });
  afterAll(() => tmp.cleanup());

  const blobFile = () => join(dataDir, 'hermod.sqlite.blobs', sha256.slice(0, 2), sha256);

  it('writes the 3 MiB message byte-exact with --raw from its file', async () => {
    expect(existsSync(blobFile())).toBe(true);
    const shown = await cli('message', 'show', id, '--raw');
    expect(shown.code).toBe(0);
    expect(shown.stdoutBytes.equals(raw)).toBe(true);
  });

  it('removes the file with the message', async () => {
    const deleted = await cli('message', 'delete', id);
    expect(deleted.code).toBe(0);
    expect(existsSync(blobFile())).toBe(false);
  });
});
