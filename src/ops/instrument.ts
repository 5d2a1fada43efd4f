import type { SearchIndex } from '../search/search-index.js';
import type { MessageStore } from '../store/message-store.js';
import type { Metrics } from './metrics.js';

type Observe = (operation: string, ok: boolean, seconds: number) => void;

/**
 * Wraps an object so that every async method call is timed and reported as `observe(method,
 * ok, seconds)`. A proxy rather than a hand-written decorator: the store and index interfaces grow
 * with every adapter feature, and each new method is measured without touching this file.
 * Errors pass through unchanged; sync results are returned as they are, untimed.
 */
export function timed<T extends object>(target: T, observe: Observe): T {
  const wrappers = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value: unknown = Reflect.get(obj, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string' || prop === 'constructor') return value;
      let wrapper = wrappers.get(prop);
      if (!wrapper) {
        const method = value as (...args: unknown[]) => unknown;
        wrapper = (...args: unknown[]) => {
          const started = performance.now();
          const result = method.apply(obj, args);
          if (!(result instanceof Promise)) return result;
          const seconds = () => (performance.now() - started) / 1000;
          return result.then(
            (ok: unknown) => (observe(prop, true, seconds()), ok),
            (err: unknown) => {
              observe(prop, false, seconds());
              throw err;
            },
          );
        };
        wrappers.set(prop, wrapper);
      }
      return wrapper;
    },
  });
}

/** The store as the core sees it, with every call's latency in hermod_store_duration_seconds. */
export function instrumentStore(store: MessageStore, metrics: Metrics): MessageStore {
  metrics.setOutboxSource(() => store.outboxLength());
  return timed(store, (op, ok, s) => metrics.storeCall(op, ok, s));
}

/** The search index with every call's latency in hermod_index_duration_seconds. */
export function instrumentSearch(index: SearchIndex, metrics: Metrics): SearchIndex {
  return timed(index, (op, ok, s) => metrics.indexCall(op, ok, s));
}
