import { expect } from 'vitest';
import type { MessageStore } from '../../src/store/message-store.js';
import { makeDelivery, sha256Hex } from './delivery-fixture.js';

/**
 * Delivers `raws` to the mailbox, then reads their entries and their raw messages back with one
 * getEntries and one getRaws, each list padded with an id or hashes that `unknown` names: every
 * stored one comes back (an entry equal to its getEntry, the bytes exact), and nothing else.
 */
export async function expectBatchedReads(
  store: MessageStore,
  mailboxId: string,
  raws: Buffer[],
  unknown: { entryId: string; sha256s: (stored: string[]) => string[] },
): Promise<void> {
  const ids: string[] = [];
  for (const raw of raws) ids.push((await store.deliver(makeDelivery(mailboxId, { raw }))).entryId);
  const entries = await store.getEntries([...ids, unknown.entryId, ids[0]]);
  expect([...entries.keys()].sort()).toEqual([...ids].sort());
  for (const id of ids) expect(entries.get(id)).toEqual(await store.getEntry(id));
  const shas = raws.map((raw) => sha256Hex(raw));
  const found = await store.getRaws([...shas, ...unknown.sha256s(shas)]);
  expect([...found.keys()].sort()).toEqual([...shas].sort());
  raws.forEach((raw, i) => expect(Buffer.compare(found.get(shas[i])!, raw)).toBe(0));
}
