import type { Logger } from 'pino';
import type { HermodConfig } from '../../config/schema.js';
import type { OutboundQueue } from '../../queue/outbound-queue.js';
import type { OutboundService } from '../../queue/outbound-service.js';
import type { SearchIndex } from '../../search/search-index.js';
import type { MessageStore } from '../../store/message-store.js';
import type { Scope } from './scopes.js';

/** What the admin API works on: the running node's services. */
export interface ApiDeps {
  config: HermodConfig;
  store: MessageStore;
  search: SearchIndex;
  /** Absent only where no outbound side runs; the queue endpoints then answer 503. */
  queue?: OutboundQueue;
  outbound?: OutboundService;
  log: Logger;
}

/** One request as a handler sees it: path parameters, query values, the parsed JSON body. */
export interface RouteContext {
  params: Record<string, string>;
  query: Record<string, string>;
  body: unknown;
  deps: ApiDeps;
}

/** One endpoint: method, path pattern (`:name` segments), the scope it needs, and its handler. */
export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  scope: Scope;
  /** Answer 201 Created instead of 200. */
  created?: boolean;
  handle(ctx: RouteContext): Promise<unknown>;
}

/** The route for a method and path, with its parameters; `allowed` lists the methods the path has. */
export function matchRoute(routes: readonly Route[], method: string, path: string): { route?: Route; params: Record<string, string>; allowed: string[] } {
  const segments = path.split('/').filter(Boolean);
  const allowed: string[] = [];
  for (const route of routes) {
    const params = matchPath(route.path, segments);
    if (!params) continue;
    if (route.method === method) return { route, params, allowed };
    allowed.push(route.method);
  }
  return { params: {}, allowed };
}

function matchPath(pattern: string, segments: string[]): Record<string, string> | null {
  const parts = pattern.split('/').filter(Boolean);
  if (parts.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    if (parts[i].startsWith(':')) {
      let value: string;
      try {
        value = decodeURIComponent(segments[i]);
      } catch {
        return null;
      }
      params[parts[i].slice(1)] = value;
    } else if (parts[i] !== segments[i]) {
      return null;
    }
  }
  return params;
}
