import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { HermodConfig } from '../config/schema.js';
import type { OutboundQueue } from '../queue/outbound-queue.js';
import type { SearchIndex } from '../search/search-index.js';
import type { MessageStore } from '../store/message-store.js';
import type { Metrics } from './metrics.js';
import { OpsServer } from './ops-server.js';
import { coreChecks } from './readiness.js';

/** A started ops endpoint and where it listens. */
export interface RunningOps {
  server: OpsServer;
  address: AddressInfo;
}

/** Starts the ops HTTP endpoint when `ops.enabled` (and metrics exist); undefined otherwise. */
export async function startOps(
  config: HermodConfig,
  deps: { store: MessageStore; search: SearchIndex; metrics?: Metrics; log: Logger; queue?: OutboundQueue },
): Promise<RunningOps | undefined> {
  if (!config.ops.enabled || !deps.metrics) return undefined;
  const { queue } = deps;
  if (queue) deps.metrics.setQueueSource(() => queue.list());
  const server = new OpsServer({
    host: config.ops.host,
    port: config.ops.port,
    metrics: deps.metrics,
    checks: coreChecks(deps.store, deps.search, queue),
    log: deps.log.child({ component: 'ops' }),
  });
  return { server, address: await server.listen() };
}
