import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, statusOf } from './api-error.js';
import { matchRoute, type ApiDeps, type Route } from './router.js';
import { directoryRoutes } from './routes-directory.js';
import { maintenanceRoutes } from './routes-maintenance.js';
import { messageRoutes } from './routes-messages.js';
import { queueRoutes } from './routes-queue.js';
import type { TokenFile } from './tokens.js';

/** Where the API lives on the ops listener. */
export const API_PREFIX = '/api/v1';

/** Every endpoint; a fixed path (`/queue/stats`) comes before a parameter at its place (`/queue/:id`). */
export const ROUTES: readonly Route[] = [...directoryRoutes, ...messageRoutes, ...queueRoutes, ...maintenanceRoutes];

/**
 * The admin API: JSON over HTTP(S) on the ops listener, `Authorization: Bearer TOKEN` on every
 * request, each endpoint guarded by one scope. Every answer is the JSON the matching CLI command
 * prints with `--json`, because both call the same functions (src/admin). Errors are
 * `{"error": {"code", "message", "field"?}}` with 400 (bad input, naming the field), 401 (no or
 * unknown token), 403 (scope missing), 404, 405, 413, 415, 503 (a backend is down) or 500.
 * Each request is logged with the token id, never the token.
 */
export class AdminApi {
  constructor(
    private readonly deps: ApiDeps,
    private readonly tokens: TokenFile,
    private readonly maxBodyBytes: number,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const started = performance.now();
    let tokenId: string | undefined;
    let status = 200;
    try {
      const token = this.authenticate(req);
      tokenId = token.id;
      const path = url.pathname.slice(API_PREFIX.length) || '/';
      const { route, params, allowed } = matchRoute(ROUTES, req.method ?? 'GET', path);
      if (!route) {
        if (allowed.length > 0) res.setHeader('Allow', allowed.join(', '));
        throw allowed.length > 0
          ? new ApiError(405, 'HERMOD_METHOD', `${req.method} is not allowed on ${url.pathname} (allowed: ${allowed.join(', ')})`)
          : new ApiError(404, 'HERMOD_NOT_FOUND', `no endpoint ${url.pathname} (see ops/openapi/hermod-admin-api.yaml)`);
      }
      if (!token.scopes.includes(route.scope)) {
        res.setHeader('WWW-Authenticate', `Bearer realm="hermod", error="insufficient_scope", scope="${route.scope}"`);
        throw new ApiError(403, 'HERMOD_SCOPE', `this token lacks the scope ${route.scope}`);
      }
      const body = route.method === 'GET' ? undefined : await readJson(req, this.maxBodyBytes);
      const query = Object.fromEntries(url.searchParams);
      const result = await route.handle({ params, query, body, deps: this.deps });
      status = route.method === 'POST' && route.created ? 201 : 200;
      sendJson(res, status, result);
    } catch (err) {
      status = statusOf(err);
      if (status === 401) res.setHeader('WWW-Authenticate', (err as { challenge?: string }).challenge ?? 'Bearer realm="hermod"');
      if (status === 500) this.deps.log.error({ err, path: url.pathname }, 'admin api: request failed');
      const e = err as ApiError;
      const message = status === 500 ? 'internal error (see the server log)' : e.message;
      sendJson(res, status, { error: { code: e.code ?? 'HERMOD_INTERNAL', message, ...(e.field ? { field: e.field } : {}) } });
    } finally {
      const ms = Math.round(performance.now() - started);
      this.deps.log.info({ method: req.method, path: url.pathname, status, token: tokenId, ms }, 'admin api');
    }
  }

  private authenticate(req: IncomingMessage): { id: string; scopes: string[] } {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(header.trim());
    if (!match) {
      throw this.unauthorized('send Authorization: Bearer TOKEN (create one with hermod token create)', 'invalid_request');
    }
    const record = this.tokens.verify(match[1]);
    if (!record) throw this.unauthorized('unknown or revoked token', 'invalid_token');
    return record;
  }

  private unauthorized(message: string, error: string): ApiError {
    const err = new ApiError(401, 'HERMOD_UNAUTHORIZED', message);
    (err as ApiError & { challenge?: string }).challenge = `Bearer realm="hermod", error="${error}"`;
    return err;
  }
}

/** Reads a JSON body of at most `limit` bytes; an empty body is undefined. */
async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new ApiError(413, 'HERMOD_TOO_LARGE', `request body over ${limit} bytes (ops.api.maxBodyBytes)`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new ApiError(413, 'HERMOD_TOO_LARGE', `request body over ${limit} bytes (ops.api.maxBodyBytes)`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  const type = String(req.headers['content-type'] ?? '');
  if (!/^application\/json\b/i.test(type)) throw new ApiError(415, 'HERMOD_MEDIA_TYPE', 'send the body as Content-Type: application/json');
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new ApiError(400, 'HERMOD_INPUT', `body: not valid JSON (${(err as Error).message})`, 'body');
  }
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(`${JSON.stringify(value)}\n`);
}
