import { join } from 'node:path';
import type { HermodConfig } from '../config/schema.js';
import type { OutboundQueue } from './outbound-queue.js';
import { SqliteQueue } from './sqlite/sqlite-queue.js';

/** Opens (and initialises) the outbound queue the config selects. */
export async function openOutboundQueue(config: HermodConfig): Promise<OutboundQueue> {
  const q = config.queue;
  // BullMQ (and ioredis under it) is imported only when chosen: the embedded default never loads it.
  const queue: OutboundQueue =
    q.driver === 'bullmq'
      ? // Lapsed leases are looked for twice per lease, so a dead worker's job waits at most 1.5 leases.
        new (await import('./bullmq/bullmq-queue.js')).BullmqQueue({ ...q.bullmq, leaseMs: q.leaseMs, stalledIntervalMs: Math.min(30_000, Math.max(50, Math.floor(q.leaseMs / 2))) })
      : new SqliteQueue({ file: join(config.dataDir, q.sqlite.file), busyTimeoutMs: config.store.sqlite.busyTimeoutMs });
  try {
    await queue.init();
  } catch (err) {
    await queue.close().catch(() => undefined);
    throw err;
  }
  return queue;
}
