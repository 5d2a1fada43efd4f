/**
 * Durable before 250, with the real Cassandra process stopped in the middle of a burst of LMTP
 * deliveries to a real Hermod (store.driver cassandra): each recipient gets 250 or 451 4.3.0,
 * within a bounded time, never a hang; once Cassandra is back the store reconnects by itself,
 * the failed recipients are retried as Postfix would (same bytes) and each succeeds; in the end
 * every message is stored exactly once per recipient, and nothing that got 250 is missing.
 *
 * This file stops the shared server (scripts/services down cassandra), so it is a
 * `*.disruptive.test.ts`: vitest runs it alone, after every other test file (vitest.config.ts).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cassandraStoreSection, testSession, uniqueKeyspace } from '../helpers/cassandra.js';
import { sampleMessage, startHermod, type Harness } from '../helpers/hermod-harness.js';
import { lmtpTransaction } from '../helpers/lmtp-session.js';

const run = promisify(execFile);
const SERVICES = fileURLToPath(new URL('../../scripts/services', import.meta.url));
const services = (...args: string[]) => run('bash', [SERVICES, ...args], { timeout: 280_000 });

const RECIPIENTS = ['alice@example.test', 'carol@example.test'];
/** The store's request timeout in this test: a delivery in flight when Cassandra dies fails fast. */
const REQUEST_TIMEOUT_MS = 2000;
/**
 * No LMTP transaction may take longer than this, outage or not: a few store calls that each give
 * up after REQUEST_TIMEOUT_MS, with room for a loaded test machine. (Without the bound, a
 * hanging store would hold the session until the socket timeout, 60 s.)
 */
const TRANSACTION_BOUND_MS = 15_000;
let slowestMs = 0;

/** What one recipient of one message was answered: the reply line, at RCPT or after DATA. */
interface Outcome {
  message: number;
  rcpt: string;
  reply: string;
}

/** One LMTP transaction (all recipients); returns each recipient's final reply and how long it took. */
async function deliver(port: number, message: string, index: number, rcpts: string[]): Promise<{ outcomes: Outcome[]; ms: number }> {
  const started = Date.now();
  const result = await lmtpTransaction(port, { from: 'bob@remote.test', to: rcpts, message });
  const data = [...result.data];
  const outcomes = rcpts.map((rcpt, i) => {
    const atRcpt = result.rcpt[i];
    const reply = atRcpt.code === 250 ? data.shift()!.text : atRcpt.text;
    return { message: index, rcpt, reply };
  });
  return { outcomes, ms: Date.now() - started };
}

async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check().catch(() => false)) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('Cassandra stopped during a burst of deliveries', () => {
  const keyspace = uniqueKeyspace('outage');
  const messages: string[] = [];
  let h: Harness;

  beforeAll(async () => {
    await services('up', 'cassandra');
    h = await startHermod(
      {
        store: cassandraStoreSection(keyspace, { requestTimeoutMs: REQUEST_TIMEOUT_MS }),
      },
      RECIPIENTS.map((address) => ({ address })),
    );
  });
  afterAll(async () => {
    // Whatever happened above, the server comes back for whoever runs next.
    await services('up', 'cassandra');
    await h?.stop();
    const session = await testSession(keyspace);
    await session.ddl(`DROP KEYSPACE IF EXISTS ${keyspace}`);
    await session.shutdown();
  });

  /** Sends messages [from, to) over 4 sessions; Cassandra is stopped once `stopAfter` are done. */
  async function burst(from: number, to: number, stopAfter?: number): Promise<{ outcomes: Outcome[]; stopping?: Promise<unknown> }> {
    const outcomes: Outcome[] = [];
    let next = from;
    let done = 0;
    let stopping: Promise<unknown> | undefined;
    const worker = async (): Promise<void> => {
      while (next < to) {
        const i = next++;
        messages[i] ??= sampleMessage(`outage ${i}`, `Burst message ${i}.`);
        const { outcomes: got, ms } = await deliver(h.lmtpPort, messages[i], i, RECIPIENTS);
        expect(ms, `message ${i} took ${ms} ms`).toBeLessThan(TRANSACTION_BOUND_MS);
        slowestMs = Math.max(slowestMs, ms);
        outcomes.push(...got);
        if (++done === stopAfter) stopping = services('down', 'cassandra');
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    return { outcomes, stopping };
  }

  it('answers 451 4.3.0 while down, keeps every 250, and stores each retried message once', async () => {
    const { store } = h.server.services;
    const first = await burst(0, 40, 10);
    const downStarted = Date.now();
    await first.stopping;
    const second = await burst(40, 50);
    const outcomes = [...first.outcomes, ...second.outcomes];
    for (const o of outcomes) expect(o.reply).toMatch(/^(250 2\.0\.0 |451 4\.3\.0 )/);
    const failed = outcomes.filter((o) => o.reply.startsWith('451'));
    const accepted = outcomes.filter((o) => o.reply.startsWith('250'));
    expect(failed.length).toBeGreaterThanOrEqual(2 * 10); // at least everything sent while certainly down
    expect(accepted.length).toBeGreaterThanOrEqual(2 * 10); // at least everything before the stop

    await services('up', 'cassandra');
    const downMs = Date.now() - downStarted;
    const reconnectMs = await waitUntil('the store reconnects', 60_000, async () => (await store.listDomains()).length === 1);

    // Postfix-style retries of what failed: the same bytes, one recipient per queue entry.
    for (const o of failed) {
      const retried = await deliver(h.lmtpPort, messages[o.message], o.message, [o.rcpt]);
      expect(retried.outcomes[0].reply, `retry of message ${o.message} to ${o.rcpt}`).toMatch(/^250 2\.0\.0 /);
    }
    // A reply lost after a 250 makes the MTA send again: still one copy.
    const again = await deliver(h.lmtpPort, messages[accepted[0].message], accepted[0].message, [accepted[0].rcpt]);
    expect(again.outcomes[0].reply).toMatch(/^250 2\.0\.0 Ok: already delivered/);

    for (const address of RECIPIENTS) {
      const mailbox = (await store.resolveAddress(address))!;
      const entries = await store.listEntries({ mailboxId: mailbox.id, limit: 500 });
      const subjects = entries.map((e) => e.summary.subject).sort();
      expect(subjects).toEqual(Array.from({ length: 50 }, (_, i) => `outage ${i}`).sort());
    }
    // Index follows store: the backlog left by the outage drains at the indexer's normal rate
    // (its back-off is capped at 2 s and a backlog goes in growing bulk batches).
    const backlog = await store.outboxLength();
    const catchUpMs = await waitUntil('the indexer drains the outbox', 120_000, async () => (await store.outboxLength()) === 0);
    console.log(
      `cassandra down for ${downMs} ms (stop + restart); store reconnected ${reconnectMs} ms after it was ready; ` +
        `${accepted.length} recipients got 250 and ${failed.length} got 451 during the burst (slowest transaction ` +
        `${slowestMs} ms), all retried once; index caught up with ${backlog} outbox items in ${catchUpMs} ms`,
    );
  });
});
