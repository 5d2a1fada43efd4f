import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError, NotFoundError } from '../../src/errors.js';
import type { MessageStore } from '../../src/store/message-store.js';
import { BAYES_GLOBAL_SCOPE, type LedgerLine, type Mailbox } from '../../src/store/types.js';
import { makeDelivery, rawMessage, sha256Hex } from '../store/delivery-fixture.js';
import type { MakeStore } from './message-store.contract.js';

const MISSING_ID = '01J00000000000000000000000';
const GLOBAL = BAYES_GLOBAL_SCOPE;

/**
 * The MessageStore contract for changing entries (move, re-classification) and for Bayes token
 * statistics. Part of the contract suite every adapter runs (called from
 * describeMessageStoreContract).
 */
export function describeEntryChangeContract(name: string, makeStore: MakeStore): void {
  describe(`MessageStore contract (changes and Bayes): ${name}`, () => {
    let store: MessageStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
    });
    afterEach(async () => {
      await cleanup();
    });

    async function alice(): Promise<Mailbox> {
      await store.addDomain('example.com');
      return store.addMailbox({ address: 'alice@example.com', quotaBytes: 0 });
    }

    /** Delivers one message and acknowledges its outbox item, so later items stand alone. */
    async function deliveredEntry(mailboxId: string): Promise<string> {
      const { entryId } = await store.deliver(makeDelivery(mailboxId));
      await store.ackOutbox((await store.pendingOutbox(100)).map((i) => i.seq));
      return entryId;
    }

    const note: LedgerLine = {
      plugin: 'operator',
      stage: 'move',
      verdict: 'continue',
      score: 0,
      reason: 'moved INBOX → Junk',
      durationMs: 0,
      details: { learned: 'spam' },
    };

    describe('moveEntry', () => {
      it('moves, lists under the new folder, appends the note and queues a newer upsert', async () => {
        const box = await alice();
        const entryId = await deliveredEntry(box.id);
        const before = await store.getLedger(entryId);
        const moved = await store.moveEntry(entryId, 'Junk', note);
        expect(moved).toMatchObject({ id: entryId, folder: 'Junk' });
        expect((await store.getEntry(entryId))!.folder).toBe('Junk');
        expect((await store.listEntries({ mailboxId: box.id, folder: 'Junk', limit: 5 })).map((e) => e.id)).toEqual([
          entryId,
        ]);
        expect(await store.listEntries({ mailboxId: box.id, folder: 'INBOX', limit: 5 })).toEqual([]);
        expect(await store.getLedger(entryId)).toEqual([...before, note]);
        const items = await store.pendingOutbox(10);
        expect(items.map((i) => [i.entryId, i.mailboxId, i.op])).toEqual([[entryId, box.id, 'upsert']]);
      });

      it('changes nothing and queues nothing when the entry is already in that folder', async () => {
        const box = await alice();
        const entryId = await deliveredEntry(box.id);
        const same = await store.moveEntry(entryId, 'INBOX', note);
        expect(same.folder).toBe('INBOX');
        expect(await store.outboxLength()).toBe(0);
        expect(await store.getLedger(entryId)).not.toContainEqual(note);
      });

      it('gives later changes of one entry increasing versions', async () => {
        const box = await alice();
        const entryId = await deliveredEntry(box.id);
        await store.moveEntry(entryId, 'Junk');
        await store.moveEntry(entryId, 'INBOX');
        const [first, second] = await store.pendingOutbox(10);
        expect(second.version).toBeGreaterThan(first.version);
      });

      it('refuses an unknown entry (NotFoundError) and an empty folder (InputError)', async () => {
        const box = await alice();
        const entryId = await deliveredEntry(box.id);
        await expect(store.moveEntry(MISSING_ID, 'Junk')).rejects.toBeInstanceOf(NotFoundError);
        await expect(store.moveEntry(entryId, '  ')).rejects.toBeInstanceOf(InputError);
        await expect(store.moveEntry(entryId, 'a\nb')).rejects.toBeInstanceOf(InputError);
        expect(await store.outboxLength()).toBe(0);
      });
    });

    describe('updateClassification', () => {
      it('replaces tags and importance, keeps the folder unless given, and queues an upsert', async () => {
        const box = await alice();
        const entryId = await deliveredEntry(box.id);
        const kept = await store.updateClassification(entryId, { tags: ['list', 'bulk'], importance: -6 });
        expect(kept).toMatchObject({ folder: 'INBOX', tags: ['list', 'bulk'], importance: -6 });
        const moved = await store.updateClassification(entryId, { tags: [], importance: 3, folder: 'Lists', note });
        expect(moved).toMatchObject({ folder: 'Lists', tags: [], importance: 3 });
        expect(await store.getEntry(entryId)).toMatchObject({ folder: 'Lists', tags: [], importance: 3 });
        expect((await store.getLedger(entryId)).at(-1)).toEqual(note);
        expect(await store.outboxLength()).toBe(2);
      });

      it('clamps importance to −10..10 and refuses bad input', async () => {
        const box = await alice();
        const entryId = await deliveredEntry(box.id);
        expect((await store.updateClassification(entryId, { tags: [], importance: 42 })).importance).toBe(10);
        await expect(store.updateClassification(entryId, { tags: [''], importance: 0 })).rejects.toBeInstanceOf(
          InputError,
        );
        await expect(store.updateClassification(entryId, { tags: [], importance: NaN })).rejects.toBeInstanceOf(
          InputError,
        );
        await expect(store.updateClassification(MISSING_ID, { tags: [], importance: 0 })).rejects.toBeInstanceOf(
          NotFoundError,
        );
      });
    });

    describe('Bayes token statistics', () => {
      const sha = sha256Hex(rawMessage());
      const other = sha256Hex(rawMessage());

      it('starts empty', async () => {
        expect(await store.bayesTotals(GLOBAL)).toEqual({ spam: 0, ham: 0 });
        expect((await store.bayesLookup(GLOBAL, ['free', 'money'])).size).toBe(0);
        expect(await store.bayesLabel(GLOBAL, sha)).toBeNull();
      });

      it('counts a message once per token and per label, and answers only for known tokens', async () => {
        const [result] = await store.bayesLearn({
          scopes: [GLOBAL],
          sha256: sha,
          tokens: ['free', 'money', 'free', 'größe', 'subject:wow'],
          label: 'spam',
        });
        expect(result).toEqual({ scope: GLOBAL, previous: null, changed: true });
        await store.bayesLearn({ scopes: [GLOBAL], sha256: other, tokens: ['money', 'meeting'], label: 'ham' });
        expect(await store.bayesTotals(GLOBAL)).toEqual({ spam: 1, ham: 1 });
        const counts = await store.bayesLookup(GLOBAL, ['free', 'money', 'meeting', 'größe', 'unknown']);
        expect(Object.fromEntries(counts)).toEqual({
          free: { spam: 1, ham: 0 },
          money: { spam: 1, ham: 1 },
          meeting: { spam: 0, ham: 1 },
          größe: { spam: 1, ham: 0 },
        });
        expect(await store.bayesLabel(GLOBAL, sha.toUpperCase())).toBe('spam');
      });

      it('learns the same message with the same label only once', async () => {
        const learning = { scopes: [GLOBAL], sha256: sha, tokens: ['free'], label: 'spam' as const };
        await store.bayesLearn(learning);
        const [again] = await store.bayesLearn(learning);
        expect(again).toEqual({ scope: GLOBAL, previous: 'spam', changed: false });
        expect(await store.bayesTotals(GLOBAL)).toEqual({ spam: 1, ham: 0 });
        expect((await store.bayesLookup(GLOBAL, ['free'])).get('free')).toEqual({ spam: 1, ham: 0 });
      });

      it('unlearns the old label when a message is relearned, and forgets it with null', async () => {
        await store.bayesLearn({ scopes: [GLOBAL], sha256: sha, tokens: ['free', 'offer'], label: 'spam' });
        await store.bayesLearn({ scopes: [GLOBAL], sha256: other, tokens: ['free'], label: 'spam' });
        const [flip] = await store.bayesLearn({ scopes: [GLOBAL], sha256: sha, tokens: ['free', 'offer'], label: 'ham' });
        expect(flip).toEqual({ scope: GLOBAL, previous: 'spam', changed: true });
        expect(await store.bayesTotals(GLOBAL)).toEqual({ spam: 1, ham: 1 });
        expect(Object.fromEntries(await store.bayesLookup(GLOBAL, ['free', 'offer']))).toEqual({
          free: { spam: 1, ham: 1 },
          offer: { spam: 0, ham: 1 },
        });
        await store.bayesLearn({ scopes: [GLOBAL], sha256: sha, tokens: ['free', 'offer'], label: null });
        expect(await store.bayesTotals(GLOBAL)).toEqual({ spam: 1, ham: 0 });
        expect(Object.fromEntries(await store.bayesLookup(GLOBAL, ['free', 'offer']))).toEqual({
          free: { spam: 1, ham: 0 },
        });
        expect(await store.bayesLabel(GLOBAL, sha)).toBeNull();
      });

      it('never counts below zero when unlearning tokens it did not learn', async () => {
        await store.bayesLearn({ scopes: [GLOBAL], sha256: sha, tokens: ['a'], label: 'spam' });
        await store.bayesLearn({ scopes: [GLOBAL], sha256: sha, tokens: ['a', 'b'], label: 'ham' });
        expect(Object.fromEntries(await store.bayesLookup(GLOBAL, ['a', 'b']))).toEqual({
          a: { spam: 0, ham: 1 },
          b: { spam: 0, ham: 1 },
        });
      });

      it('keeps scopes apart and learns several in one call', async () => {
        const box = await alice();
        const results = await store.bayesLearn({ scopes: [box.id, GLOBAL], sha256: sha, tokens: ['x'], label: 'ham' });
        expect(results.map((r) => [r.scope, r.changed])).toEqual([
          [box.id, true],
          [GLOBAL, true],
        ]);
        await store.bayesLearn({ scopes: [GLOBAL], sha256: other, tokens: ['x'], label: 'spam' });
        expect(await store.bayesTotals(box.id)).toEqual({ spam: 0, ham: 1 });
        expect(await store.bayesTotals(GLOBAL)).toEqual({ spam: 1, ham: 1 });
        expect((await store.bayesLookup(box.id, ['x'])).get('x')).toEqual({ spam: 0, ham: 1 });
        expect(await store.bayesLabel(box.id, other)).toBeNull();
      });

      it('looks up many tokens at once', async () => {
        const tokens = Array.from({ length: 1200 }, (_, i) => `t${i}`);
        await store.bayesLearn({ scopes: [GLOBAL], sha256: sha, tokens, label: 'spam' });
        const found = await store.bayesLookup(GLOBAL, [...tokens, 'absent']);
        expect(found.size).toBe(1200);
      });

      it('drops a mailbox scope with its mailbox', async () => {
        const box = await alice();
        await store.bayesLearn({ scopes: [box.id, GLOBAL], sha256: sha, tokens: ['x'], label: 'spam' });
        await store.removeMailbox('alice@example.com');
        expect(await store.bayesTotals(box.id)).toEqual({ spam: 0, ham: 0 });
        expect((await store.bayesLookup(box.id, ['x'])).size).toBe(0);
        expect(await store.bayesLabel(box.id, sha)).toBeNull();
        expect(await store.bayesTotals(GLOBAL)).toEqual({ spam: 1, ham: 0 });
      });

      it('refuses a learning that is not a SHA-256 or has an unknown label', async () => {
        await expect(
          store.bayesLearn({ scopes: [GLOBAL], sha256: 'abc', tokens: ['x'], label: 'spam' }),
        ).rejects.toBeInstanceOf(InputError);
        await expect(
          store.bayesLearn({ scopes: [GLOBAL], sha256: sha, tokens: ['x'], label: 'junk' as never }),
        ).rejects.toBeInstanceOf(InputError);
      });
    });
  });
}
