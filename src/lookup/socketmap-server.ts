import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { encodeNetstring, NetstringDecoder } from './netstring.js';

/**
 * One named map: resolves a key to its value, or null when the key is not in the map.
 * A throw is a temporary failure: Postfix answers the SMTP client with a 4xx and it retries.
 */
export type SocketmapLookup = (key: string) => Promise<string | null>;

/** How one lookup ended, as reported to {@link SocketmapServerOptions.onLookup}. */
export type LookupResult = 'found' | 'notfound' | 'temp' | 'perm';

/** Options for {@link SocketmapServer}. */
export interface SocketmapServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** The maps by the name Postfix puts in front of the key (`socketmap:inet:host:port:NAME`). */
  maps: Record<string, SocketmapLookup>;
  log: Logger;
  /** An idle client connection is closed after this long; Postfix reconnects on demand. */
  idleTimeoutMs: number;
  /** Largest request accepted, in bytes. @defaultValue 10000 */
  maxRequestBytes?: number;
  /** Called after every lookup (metrics). */
  onLookup?: (map: string, result: LookupResult, seconds: number) => void;
}

/**
 * A Postfix socketmap server (socketmap_table(5)): each request is a netstring `NAME KEY`, each
 * reply a netstring `OK VALUE`, `NOTFOUND `, `TEMP REASON` or `PERM REASON`. Postfix keeps the
 * connection open for many lookups; replies go out in request order.
 */
export class SocketmapServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly options: SocketmapServerOptions) {
    this.server = createServer((socket) => this.accept(socket));
  }

  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /** Stops listening and closes client connections; Postfix reconnects to another node. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private accept(socket: Socket): void {
    const { log, idleTimeoutMs, maxRequestBytes } = this.options;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', (err) => log.debug({ err }, 'lookup: socket error'));
    socket.setTimeout(idleTimeoutMs, () => socket.end());
    const decoder = new NetstringDecoder(maxRequestBytes ?? 10_000);
    // Lookups are async; chaining them keeps the replies in request order.
    let queue = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      let requests: string[];
      try {
        requests = decoder.push(chunk);
      } catch (err) {
        log.warn({ peer: socket.remoteAddress, reason: (err as Error).message }, 'lookup: bad request; closing');
        socket.destroy();
        return;
      }
      for (const request of requests) {
        queue = queue.then(async () => {
          const reply = await this.answer(request);
          if (!socket.destroyed) socket.write(encodeNetstring(reply));
        });
      }
    });
  }

  /** The reply text for one request; never throws. */
  private async answer(request: string): Promise<string> {
    const space = request.indexOf(' ');
    const name = space < 0 ? request : request.slice(0, space);
    const key = space < 0 ? '' : request.slice(space + 1);
    const lookup = Object.hasOwn(this.options.maps, name) ? this.options.maps[name] : undefined;
    const started = performance.now();
    const report = (result: LookupResult): void =>
      this.options.onLookup?.(name, result, (performance.now() - started) / 1000);
    if (!lookup) {
      report('perm');
      return `PERM unknown map "${name.slice(0, 64)}"`;
    }
    try {
      const value = await lookup(key);
      report(value === null ? 'notfound' : 'found');
      return value === null ? 'NOTFOUND ' : `OK ${value}`;
    } catch (err) {
      this.options.log.error({ err, map: name }, 'lookup failed');
      report('temp');
      return 'TEMP lookup failed, try again later';
    }
  }
}
