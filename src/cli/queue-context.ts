import { InvalidArgumentError } from 'commander';
import { DURATION_HINT, durationMs } from '../admin/input-rules.js';
import type { HermodConfig } from '../config/schema.js';
import type { OutboundQueue } from '../queue/outbound-queue.js';
import type { OutboundService } from '../queue/outbound-service.js';
import type { HermodServices } from '../services.js';
import { withServices } from './context.js';

/** The store plus the outbound queue and its way in, for the queue, send and bounce commands. */
export interface QueueServices extends HermodServices {
  queue: OutboundQueue;
  outbound: OutboundService;
}

/**
 * Opens the services and the configured outbound queue, runs `fn`, closes both. The CLI only
 * changes the queue; the delivery worker of `hermod serve` does the sending.
 */
export async function withQueue<T>(config: HermodConfig, fn: (services: QueueServices) => Promise<T>): Promise<T> {
  const [{ openOutboundQueue }, { OutboundService }] = await Promise.all([
    import('../queue/open-queue.js'),
    import('../queue/outbound-service.js'),
  ]);
  return withServices(config, async (services) => {
    const queue = await openOutboundQueue(config);
    try {
      return await fn({ ...services, queue, outbound: new OutboundService(queue, services.store, services.log) });
    } finally {
      await queue.close();
    }
  });
}

/** commander parser for `--older-than 30m` (s, m, h, d, w). */
export function parseDuration(text: string): number {
  const ms = durationMs(text);
  if (ms === null) throw new InvalidArgumentError(DURATION_HINT);
  return ms;
}

/** Ages as qshape prints them: 45s, 12m, 3h, 2d. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}
