import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OutboundQueue } from '../../src/queue/outbound-queue.js';
import type { Lease, NewOutboundMessage } from '../../src/queue/types.js';
import { attemptHarness } from './attempt-harness.js';
import { startScriptedPeer } from './scripted-peer.js';

/** A fresh, empty queue and how to dispose of it. */
export type MakeQueue = () => Promise<{ queue: OutboundQueue; cleanup(): Promise<void> }>;

let counter = 0;
function message(domains: string[], sender = 'alice@example.test'): NewOutboundMessage {
  counter += 1;
  return {
    messageId: `M${Date.now().toString(36)}${counter}${Math.random().toString(36).slice(2, 6)}`.toUpperCase(),
    sender,
    destinations: domains.map((domain) => ({ domain, recipients: [`a@${domain}`, `b@${domain}`], local: false })),
    raw: Buffer.from(`Subject: test ${counter}\r\n\r\nbody\r\n`),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Claims until the given job comes back after its lease lapsed. */
async function claimLapsed(queue: OutboundQueue, lapseMs: number, id: string): Promise<Lease> {
  const deadline = Date.now() + lapseMs * 10 + 2000;
  for (;;) {
    const lease = await queue.claim(60_000);
    if (lease?.job.id === id) return lease;
    if (Date.now() > deadline) throw new Error(`job ${id} was not offered again`);
    await sleep(50);
  }
}

/** The OutboundQueue contract (src/queue/outbound-queue.ts), run against every driver. */
export function describeQueueContract(name: string, makeQueue: MakeQueue, options: { lapseMs: number }): void {
  describe(`OutboundQueue contract: ${name}`, () => {
    let queue: OutboundQueue;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ queue, cleanup } = await makeQueue());
    });
    afterEach(async () => cleanup());

    it('makes one job per destination domain and spools the body once', async () => {
      const msg = message(['one.test', 'two.test', 'three.test']);
      const jobs = await queue.enqueue(msg);
      expect(jobs.map((j) => j.domain)).toEqual(['one.test', 'two.test', 'three.test']);
      expect(new Set(jobs.map((j) => j.id)).size).toBe(3);
      expect(jobs.every((j) => j.state === 'queued' && j.attempts === 0 && j.recipients.every((r) => r.status === 'pending'))).toBe(true);
      expect((await queue.readBody(msg.messageId))?.equals(msg.raw)).toBe(true);
      expect((await queue.list()).map((j) => j.id).sort()).toEqual(jobs.map((j) => j.id).sort());
    });

    it('claims due jobs oldest first, once, and completing the last job drops the body', async () => {
      const first = message(['one.test', 'two.test']);
      await queue.enqueue({ ...first, createdAt: Date.now() - 1000 });
      const a = await queue.claim(60_000);
      const b = await queue.claim(60_000);
      expect(a?.job.messageId).toBe(first.messageId);
      expect(b?.job.messageId).toBe(first.messageId);
      expect(a?.job.id).not.toBe(b?.job.id);
      expect(await queue.claim(60_000)).toBeNull();
      expect((await queue.get(a!.job.id))?.state).toBe('active');
      await queue.complete(a!);
      expect(await queue.get(a!.job.id)).toBeNull();
      expect(await queue.readBody(first.messageId)).not.toBeNull();
      await queue.complete(b!);
      expect(await queue.readBody(first.messageId)).toBeNull();
      expect(await queue.list()).toEqual([]);
    });

    it('defers with per-recipient results and offers the job again when it is due', async () => {
      const msg = message(['one.test']);
      await queue.enqueue(msg);
      const lease = (await queue.claim(60_000))!;
      const recipients = [
        { address: 'a@one.test', status: 'failed' as const, lastCode: 550, lastResponse: '550 5.1.1 no' },
        { address: 'b@one.test', status: 'pending' as const, lastCode: 450, lastResponse: '450 4.2.0 busy' },
      ];
      await queue.defer(lease, { recipients, nextAttemptAt: Date.now() + 300, lastError: '450 4.2.0 busy', delayWarned: true });
      const job = (await queue.get(lease.job.id))!;
      expect(job).toMatchObject({ state: 'deferred', attempts: 1, lastError: '450 4.2.0 busy', delayWarned: true, recipients });
      expect(await queue.claim(60_000)).toBeNull();
      await sleep(400);
      const again = await queue.claim(60_000);
      expect(again?.job).toMatchObject({ id: lease.job.id, attempts: 1, recipients });
    });

    it('postpones without counting an attempt, and refuses a stale lease', async () => {
      await queue.enqueue(message(['one.test']));
      const lease = (await queue.claim(60_000))!;
      await queue.postpone(lease, Date.now() + 200);
      expect((await queue.get(lease.job.id))).toMatchObject({ state: 'queued', attempts: 0 });
      await expect(queue.complete(lease)).rejects.toMatchObject({ code: 'HERMOD_QUEUE_LEASE' });
      await sleep(300);
      expect((await queue.claim(60_000))?.job.id).toBe(lease.job.id);
    });

    it('holds, releases, retries and removes jobs by id, never an active one', async () => {
      const msg = message(['one.test', 'two.test', 'three.test']);
      const [j1, j2, j3] = await queue.enqueue(msg);
      expect(await queue.hold([j1.id, j2.id])).toEqual([j1.id, j2.id]);
      expect((await queue.list({ states: ['held'] })).map((j) => j.id)).toEqual([j1.id, j2.id]);
      const lease = (await queue.claim(60_000))!;
      expect(lease.job.id).toBe(j3.id);
      expect(await queue.claim(60_000)).toBeNull();
      expect(await queue.hold([j3.id])).toEqual([]);
      expect(await queue.remove([j3.id])).toEqual([]);
      expect(await queue.release([j1.id])).toEqual([j1.id]);
      expect((await queue.get(j1.id))?.state).toBe('queued');
      expect(await queue.retryNow([j2.id])).toEqual([j2.id]);
      expect(await queue.remove([j1.id, j2.id])).toEqual([j1.id, j2.id]);
      expect(await queue.readBody(msg.messageId)).not.toBeNull();
      await queue.complete(lease);
      expect(await queue.readBody(msg.messageId)).toBeNull();
    });

    it('retryNow makes a deferred job due at once', async () => {
      await queue.enqueue(message(['one.test']));
      const lease = (await queue.claim(60_000))!;
      await queue.defer(lease, { recipients: lease.job.recipients, nextAttemptAt: Date.now() + 3_600_000, lastError: 'x', delayWarned: false });
      expect(await queue.claim(60_000)).toBeNull();
      expect(await queue.retryNow([lease.job.id])).toEqual([lease.job.id]);
      expect((await queue.claim(60_000))?.job.id).toBe(lease.job.id);
    });

    it('selects by domain, sender, age and state', async () => {
      await queue.enqueue({ ...message(['old.test'], 'bob@example.test'), createdAt: Date.now() - 3_600_000 });
      await queue.enqueue(message(['new.test'], ''));
      expect((await queue.list({ domain: 'OLD.test' })).map((j) => j.domain)).toEqual(['old.test']);
      expect((await queue.list({ sender: '<>' })).map((j) => j.domain)).toEqual(['new.test']);
      expect((await queue.list({ sender: 'Bob@example.test' })).map((j) => j.domain)).toEqual(['old.test']);
      expect((await queue.list({ olderThanMs: 60_000 })).map((j) => j.domain)).toEqual(['old.test']);
      expect((await queue.list({ states: ['deferred'] }))).toEqual([]);
      expect((await queue.list()).map((j) => j.domain)).toEqual(['old.test', 'new.test']);
    });

    it('renews a lease so it does not lapse, and refuses to renew a lease taken over', async () => {
      await queue.enqueue(message(['one.test']));
      const lease = (await queue.claim(options.lapseMs))!;
      const until = Date.now() + options.lapseMs * 6;
      while (Date.now() < until) {
        await queue.renew(lease, options.lapseMs);
        expect(await queue.claim(60_000)).toBeNull();
        await sleep(options.lapseMs / 3);
      }
      await queue.complete(lease);
      await queue.enqueue(message(['two.test']));
      const stale = (await queue.claim(options.lapseMs))!;
      let again = null;
      const deadline = Date.now() + options.lapseMs * 10 + 2000;
      while (!again && Date.now() < deadline) {
        await sleep(50);
        again = await queue.claim(60_000);
      }
      expect(again?.job.id).toBe(stale.job.id);
      await expect(queue.renew(stale, 60_000)).rejects.toMatchObject({ code: 'HERMOD_QUEUE_LEASE' });
    });

    it('queues the notices of a settlement with it, and none when the lease is stale', async () => {
      const msg = message(['one.test', 'two.test']);
      const [j1] = await queue.enqueue({ ...msg, dsn: { ret: 'HDRS', envid: 'env-1' }, recipientDsn: { 'a@one.test': { notify: ['SUCCESS'], orcpt: 'rfc822;A@one.test' } } });
      expect(j1.dsn).toEqual({ ret: 'HDRS', envid: 'env-1' });
      expect(j1.recipients[0]).toMatchObject({ address: 'a@one.test', notify: ['SUCCESS'], orcpt: 'rfc822;A@one.test' });
      const first = (await queue.claim(60_000))!;
      const second = (await queue.claim(60_000))!;
      expect(first.job.dsn).toEqual({ ret: 'HDRS', envid: 'env-1' });
      const bounce = { ...message(['example.test'], ''), recipientDsn: undefined };
      await queue.complete(first, [bounce]);
      const queued = await queue.list({ ids: [bounce.messageId] });
      expect(queued.map((j) => j.sender)).toEqual(['']);
      expect((await queue.readBody(bounce.messageId))?.equals(bounce.raw)).toBe(true);
      const warning = message(['example.test'], '');
      const failed = second.job.recipients.map((r) => ({ ...r, status: 'failed' as const }));
      await queue.defer(second, { recipients: failed, nextAttemptAt: Date.now() + 60_000, lastError: 'x', delayWarned: true }, [warning]);
      expect((await queue.list({ ids: [warning.messageId] })).length).toBe(1);
      const late = message(['example.test'], '');
      await expect(queue.complete(second, [late])).rejects.toMatchObject({ code: 'HERMOD_QUEUE_LEASE' });
      expect(await queue.list({ ids: [late.messageId] })).toEqual([]);
    });

    it('settles concurrent calls each on its own: a stale lease among them fails alone, and its notice is not queued', async () => {
      const messages = [1, 2, 3, 4].map((i) => message([`c${i}.test`]));
      const jobs = (await Promise.all(messages.map((m) => queue.enqueue(m)))).flat();
      expect(new Set(jobs.map((j) => j.id)).size).toBe(4);
      const leases = [];
      for (let i = 0; i < 4; i++) leases.push((await queue.claim(60_000))!);
      await queue.complete(leases[3]);
      const late = message(['example.test'], '');
      const bounce = message(['example.test'], '');
      const outcomes = await Promise.allSettled([
        queue.complete(leases[0]),
        queue.complete(leases[3], [late]),
        queue.complete(leases[1], [bounce]),
        queue.defer(leases[2], { recipients: leases[2].job.recipients, nextAttemptAt: Date.now() + 60_000, lastError: 'x', delayWarned: false }),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
      expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'HERMOD_QUEUE_LEASE' });
      expect(await queue.list({ ids: [late.messageId] })).toEqual([]);
      expect((await queue.list({ ids: [bounce.messageId] })).length).toBe(1);
      expect((await queue.get(leases[2].job.id))?.state).toBe('deferred');
      expect(await queue.get(leases[0].job.id)).toBeNull();
    });

    it('settles a job whose replies were recorded before its process died, without delivering again', async () => {
      const peer = await startScriptedPeer({ rcpt: { 'b@one.test': '550 5.1.1 No such user' } });
      const harness = await attemptHarness(peer.port);
      try {
        const msg = message(['one.test']);
        await queue.enqueue(msg);
        // The process "dies" after the record: its settlement never reaches the queue.
        const dying: OutboundQueue = Object.assign(Object.create(queue) as OutboundQueue, {
          complete: () => Promise.reject(new Error('process killed')),
          defer: () => Promise.reject(new Error('process killed')),
        });
        const first = (await queue.claim(options.lapseMs))!;
        await expect(harness.runner(dying).run(first)).rejects.toThrow('process killed');
        expect(peer.messages.length).toBe(1);
        const again = await claimLapsed(queue, options.lapseMs, first.job.id);
        expect(again.job.sent?.replies.map((r) => r.code)).toEqual([250, 550]);
        // The dead holder's lease is stale: it can record nothing more.
        await expect(queue.record(first, again.job.sent!)).rejects.toMatchObject({ code: 'HERMOD_QUEUE_LEASE' });
        const report = await harness.runner(queue).run(again);
        expect(report.outcome).toBe('completed');
        expect(report.bounced).toEqual(['b@one.test']);
        expect(peer.messages.length).toBe(1);
        expect(await queue.get(first.job.id)).toBeNull();
        const notices = await queue.list();
        expect(notices.map((j) => [j.sender, j.domain, j.recipients.map((r) => r.address)])).toEqual([['', 'example.test', ['alice@example.test']]]);
      } finally {
        await harness.close();
        await peer.stop();
      }
    });

    it('gives a lapsed lease to the next claim', async () => {
      await queue.enqueue(message(['one.test']));
      const lease = (await queue.claim(options.lapseMs))!;
      const deadline = Date.now() + options.lapseMs * 10 + 2000;
      let again = null;
      while (!again && Date.now() < deadline) {
        await sleep(50);
        again = await queue.claim(60_000);
      }
      expect(again?.job.id).toBe(lease.job.id);
      await expect(queue.complete(lease)).rejects.toMatchObject({ code: 'HERMOD_QUEUE_LEASE' });
    });
  });
}
