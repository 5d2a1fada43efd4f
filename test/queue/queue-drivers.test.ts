import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { BullmqQueue } from '../../src/queue/bullmq/bullmq-queue.js';
import { SqliteQueue } from '../../src/queue/sqlite/sqlite-queue.js';
import { describeQueueContract } from './queue.contract.js';

describeQueueContract(
  'SQLite',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hermod-queue-'));
    const queue = new SqliteQueue({ file: join(dir, 'queue.sqlite') });
    await queue.init();
    return { queue, cleanup: async () => (await queue.close(), await rm(dir, { recursive: true, force: true })) };
  },
  { lapseMs: 100 },
);

const redisUrl = process.env.HERMOD_TEST_REDIS_URL;
if (redisUrl) {
  describeQueueContract(
    'BullMQ (Redis)',
    async () => {
      const prefix = `hermod-test-${process.pid}-${Math.random().toString(36).slice(2)}`;
      const queue = new BullmqQueue({ url: redisUrl, prefix, name: 'outbound', leaseMs: 60_000, stalledIntervalMs: 100 });
      await queue.init();
      return {
        queue,
        cleanup: async () => {
          await queue.close();
          const redis = new Redis(redisUrl);
          const keys = await redis.keys(`${prefix}:*`);
          if (keys.length) await redis.del(...keys);
          redis.disconnect();
        },
      };
    },
    { lapseMs: 300 },
  );
}
