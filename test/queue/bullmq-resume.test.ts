import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { BullmqQueue } from '../../src/queue/bullmq/bullmq-queue.js';
import type { NewOutboundMessage } from '../../src/queue/types.js';

const redisUrl = process.env.HERMOD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6390';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const message = (id: string, sender: string, domain: string): NewOutboundMessage => ({
  messageId: id,
  sender,
  destinations: [{ domain, recipients: [`a@${domain}`], local: false }],
  raw: Buffer.from(`Subject: ${id}\r\n\r\nbody\r\n`),
});

describe('BullMQ: a completion cut short after its notices were recorded', () => {
  const prefix = `hermod-test-resume-${process.pid}-${Math.random().toString(36).slice(2)}`;
  let queue: BullmqQueue | undefined;
  afterEach(async () => {
    await queue?.close();
    const redis = new Redis(redisUrl);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('is completed by the next claim, its notice queued once, and never offered for delivery again', async () => {
    queue = new BullmqQueue({ url: redisUrl, prefix, name: 'outbound', leaseMs: 60_000, stalledIntervalMs: 100 });
    await queue.init();
    const [job] = await queue.enqueue(message('MRESUME1', 'alice@example.test', 'one.test'));
    const lease = (await queue.claim(300))!;
    await queue.record(lease, { attempt: 0, replies: [{ address: 'a@one.test', code: 550, response: '550 5.1.1 No such user' }], nextHopReports: false });
    // What `complete` writes first, the notices beside the record; then the process dies.
    const bounce = message('MRESUMEBOUNCE', '', 'example.test');
    const redis = new Redis(redisUrl);
    const key = `${prefix}:outbound:${job.id}`;
    const data = JSON.parse((await redis.hget(key, 'data'))!) as Record<string, unknown>;
    await redis.hset(key, 'data', JSON.stringify({ ...data, notices: [{ ...bounce, raw: bounce.raw.toString('base64') }] }));
    redis.disconnect();
    // The claim that finds the lapsed job finishes it and hands out the next job: the bounce.
    let again = null;
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && !again) {
      again = await queue.claim(60_000);
      if (!again) await sleep(50);
    }
    expect(again?.job.messageId).toBe('MRESUMEBOUNCE');
    expect(await queue.get(job.id)).toBeNull();
    expect(await queue.readBody('MRESUME1')).toBeNull();
    const queued = await queue.list();
    expect(queued.map((j) => [j.messageId, j.sender])).toEqual([['MRESUMEBOUNCE', '']]);
  });
});
