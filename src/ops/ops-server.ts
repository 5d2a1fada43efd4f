import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { API_PREFIX, type AdminApi } from './api/admin-api.js';
import type { Metrics } from './metrics.js';
import { runChecks, type ReadinessCheck } from './readiness.js';

/** Options for {@link OpsServer}. */
export interface OpsServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  metrics: Metrics;
  /** What /readyz probes. */
  checks: ReadinessCheck[];
  log: Logger;
  /** Per-check bound for /readyz, in milliseconds. @defaultValue 2000 */
  checkTimeoutMs?: number;
  /** The admin API under /api/v1, when ops.api.enabled. */
  api?: AdminApi;
  /** PEM certificate and key: the listener speaks HTTPS only. */
  tls?: { cert: Buffer; key: Buffer };
}

/**
 * The ops endpoint (HTTP, or HTTPS with a certificate; GET and HEAD outside the admin API):
 *
 * - `/healthz` 200 while the process serves requests at all (liveness: restart me if not).
 * - `/readyz` 200 when the store and search index answer and the node is not draining, else 503,
 *   with a JSON body naming each check (readiness: send me traffic or not).
 * - `/metrics` Prometheus text format.
 * - `/api/v1/…` the admin API (bearer tokens), when enabled.
 */
export class OpsServer {
  private readonly server: Server;
  private draining = false;

  constructor(private readonly options: OpsServerOptions) {
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      this.route(req, res).catch((err: unknown) => {
        options.log.error({ err, path: req.url }, 'ops: request failed');
        if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
        else res.destroy();
      });
    };
    this.server = options.tls ? createTlsServer({ cert: options.tls.cert, key: options.tls.key }, handler) : createServer(handler);
    options.metrics.setReadinessSource(() => runChecks(options.checks, options.checkTimeoutMs ?? 2000, this.draining));
    // Scrapers and load balancers keep connections open; they must not hold shutdown up.
    this.server.keepAliveTimeout = 5_000;
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

  /** From now on /readyz answers 503: the node is shutting down and wants no new traffic. */
  setDraining(): void {
    this.draining = true;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path === API_PREFIX || path.startsWith(`${API_PREFIX}/`)) {
      if (!this.options.api) return send(res, 404, 'text/plain; charset=utf-8', 'the admin API is off (ops.api.enabled)\n');
      return this.options.api.handle(req, res, new URL(req.url ?? '/', 'http://ops'));
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    }
    switch (path) {
      case '/healthz':
        return send(res, 200, 'text/plain; charset=utf-8', 'ok\n');
      case '/readyz': {
        const report = await runChecks(this.options.checks, this.options.checkTimeoutMs ?? 2000, this.draining);
        return send(res, report.ready ? 200 : 503, 'application/json', `${JSON.stringify(report)}\n`);
      }
      case '/metrics':
        return send(res, 200, this.options.metrics.contentType, await this.options.metrics.render());
      default:
        return send(res, 404, 'text/plain; charset=utf-8', 'not found: try /healthz, /readyz or /metrics\n');
    }
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
