import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { HermodConfig } from '../config/schema.js';
import type { Metrics } from '../ops/metrics.js';
import type { MailDirectory } from '../store/roles.js';
import { hermodMaps } from './hermod-maps.js';
import { SocketmapServer } from './socketmap-server.js';

/** A started lookup service and where it listens. */
export interface RunningLookup {
  server: SocketmapServer;
  address: AddressInfo;
}

/** Starts the Postfix socketmap service when `lookup.enabled`; resolves to undefined otherwise. */
export async function startLookup(
  config: HermodConfig,
  store: MailDirectory,
  log: Logger,
  metrics?: Metrics,
): Promise<RunningLookup | undefined> {
  if (!config.lookup.enabled) return undefined;
  const server = new SocketmapServer({
    host: config.lookup.host,
    port: config.lookup.port,
    maps: hermodMaps(store),
    log: log.child({ component: 'lookup' }),
    idleTimeoutMs: config.limits.socketTimeoutMs,
    onLookup: metrics?.lookup,
  });
  return { server, address: await server.listen() };
}
