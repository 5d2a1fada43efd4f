import type { BatchStatement, CassandraSession } from './cassandra-session.js';

/**
 * Mailboxes per counter batch: one statement each (a mailbox id and a number), well under
 * Cassandra's batch size warning (5 KiB).
 */
const MAILBOXES_PER_BATCH = 100;

/** Deliveries waiting for their bytes to be counted. */
interface Waiting {
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Deltas gathered while the previous update was in flight: bytes per mailbox, and who waits. */
interface Group {
  bytes: Map<string, number>;
  waiting: Waiting[];
}

/**
 * Adds a delivery's bytes to its mailbox's `mailbox_usage` counter, by group commit.
 *
 * A counter update cannot join the delivery's unlogged batches, so it was one request of its own
 * per delivery. Here an add sent while no update is in flight goes out at once; adds that arrive
 * while one is in flight wait for it, then go together: summed per mailbox, as one counter
 * batch (one request; one mutation per mailbox however many deliveries it had). An add never
 * waits for a timer, only for at most the one update ahead of it, and it resolves only once an
 * update holding its bytes was acknowledged: the delivery still answers 250 after its bytes are
 * counted, so a quota check anywhere sees them as before.
 *
 * Counters are not idempotent, so an update is never retried (the driver is told so). When it
 * fails or times out, every add in it fails and each delivery answers 451; the retries follow
 * the claimed entry and count nothing (entry-writer.ts), so usage may lag by those messages if
 * the update was lost, and never runs ahead if it was applied after all: as for a single update.
 */
export class UsageCounter {
  private readonly sql: { add: string };
  private inFlight = false;
  private next: Group | null = null;

  constructor(private readonly session: CassandraSession) {
    this.sql = { add: `UPDATE ${session.table('mailbox_usage')} SET bytes = bytes + ? WHERE mailbox_id = ?` };
  }

  /** Resolves once `bytes` are added to the mailbox's usage. */
  add(mailboxId: string, bytes: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const group: Group = this.next ?? { bytes: new Map<string, number>(), waiting: [] };
      this.next = group;
      group.bytes.set(mailboxId, (group.bytes.get(mailboxId) ?? 0) + bytes);
      group.waiting.push({ resolve, reject });
      if (!this.inFlight) this.flush();
    });
  }

  /** Sends the gathered group; the next one waits until this one is answered. */
  private flush(): void {
    const group = this.next;
    if (!group) return;
    this.next = null;
    this.inFlight = true;
    this.send(group.bytes).then(
      () => group.waiting.forEach((w) => w.resolve()),
      (err: unknown) => group.waiting.forEach((w) => w.reject(err)),
    ).finally(() => {
      this.inFlight = false;
      this.flush();
    });
  }

  private async send(bytes: Map<string, number>): Promise<void> {
    const statements: BatchStatement[] = [...bytes].map(([mailboxId, delta]) => ({ query: this.sql.add, params: [delta, mailboxId] }));
    if (statements.length === 1) {
      await this.session.execute(statements[0].query, statements[0].params, { idempotent: false });
      return;
    }
    const batches: Promise<unknown>[] = [];
    for (let i = 0; i < statements.length; i += MAILBOXES_PER_BATCH) {
      batches.push(this.session.batch(statements.slice(i, i + MAILBOXES_PER_BATCH), 'counter'));
    }
    // Every batch settles before the group does, so none is left running unobserved.
    const outcomes = await Promise.allSettled(batches);
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
