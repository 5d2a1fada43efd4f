import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { HookContext, PluginManifest, Verdict } from '../../src/plugin-api.js';
import { createRedis, NetworkList, type Redis } from '../../src/plugin-api.js';
import { ratelimitConfigSchema, type RatelimitConfig } from './config.js';

export { ratelimitConfigSchema, type RatelimitConfig } from './config.js';

export interface RatelimitState {
  client: RateLimiterAbstract;
  sender: RateLimiterAbstract;
  allowClients: NetworkList;
  redis?: Redis;
  /** The library's "over the limit" rejection class, told apart from a store failure. */
  overLimit: typeof import('rate-limiter-flexible').RateLimiterRes;
}

type Library = typeof import('rate-limiter-flexible');

type Ctx = HookContext<RatelimitConfig, RatelimitState>;
type Kind = 'client' | 'sender';

function limiter(lib: Library, kind: Kind, config: RatelimitConfig, redis: Redis | undefined): RateLimiterAbstract {
  const { points, durationSeconds } = config[kind];
  const options = { points, duration: durationSeconds, keyPrefix: `${config.redis.keyPrefix}ratelimit:${kind}` };
  return redis ? new lib.RateLimiterRedis({ ...options, storeClient: redis }) : new lib.RateLimiterMemory(options);
}

/** The library is imported here, when the plugin is configured, not with the built-in plugin list. */
async function init(config: RatelimitConfig): Promise<RatelimitState> {
  const lib = await import('rate-limiter-flexible');
  const redis = config.store === 'redis' ? createRedis(config.redis) : undefined;
  return {
    client: limiter(lib, 'client', config, redis),
    sender: limiter(lib, 'sender', config, redis),
    allowClients: new NetworkList(config.allowClients, 'plugins.ratelimit.config.allowClients'),
    redis,
    overLimit: lib.RateLimiterRes,
  };
}

/**
 * Counts one event for `key`. Over the limit → a 451 4.7.1 verdict. A store failure (an Error,
 * not a RateLimiterRes) is thrown on: the runner answers 451 4.3.0 unless the plugin is failOpen.
 */
async function consume(ctx: Ctx, kind: Kind, key: string): Promise<Verdict | undefined> {
  const { points, durationSeconds } = ctx.config[kind];
  try {
    const res = await ctx.state[kind].consume(key);
    ctx.report({ reason: `${kind} ${key}: ${res.consumedPoints}/${points} in ${durationSeconds}s`, details: { [`${kind}Count`]: res.consumedPoints } });
    return undefined;
  } catch (err) {
    if (!(err instanceof ctx.state.overLimit)) throw err;
    const wait = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
    ctx.report({ reason: `${kind} ${key} over ${points} in ${durationSeconds}s`, details: { [`${kind}Count`]: err.consumedPoints } });
    return { action: 'tempfail', code: 451, enhanced: '4.7.1', text: `Rate limit exceeded, try again in ${wait} seconds` };
  }
}

function allowed(ctx: Ctx): boolean {
  return ctx.state.allowClients.contains(ctx.session.clientAddress);
}

async function onConnect(ctx: Ctx): Promise<Verdict | void> {
  const { client } = ctx.config;
  if (!client.enabled || client.on !== 'connect' || allowed(ctx)) return;
  return consume(ctx, 'client', ctx.session.clientAddress);
}

async function onMail(ctx: Ctx): Promise<Verdict | void> {
  if (allowed(ctx)) return;
  const { client, sender } = ctx.config;
  if (client.enabled && client.on === 'mail') {
    const verdict = await consume(ctx, 'client', ctx.session.clientAddress);
    if (verdict) return verdict;
  }
  const from = ctx.transaction.mailFrom.toLowerCase();
  // Bounces come from many domains' MAILER-DAEMONs: one counter for all of them would starve DSNs.
  if (sender.enabled && from !== '') return consume(ctx, 'sender', from);
}

/**
 * Rate limits per client address (at connect or mail) and per envelope sender (at mail) with
 * rate-limiter-flexible, in memory or Redis. Over a limit → 451 4.7.1.
 */
const ratelimit: PluginManifest<RatelimitConfig, RatelimitState> = {
  name: 'ratelimit',
  description: 'Rate limits per client address and per envelope sender (memory or Redis); over a limit answers 451 4.7.1.',
  configSchema: ratelimitConfigSchema,
  init,
  hooks: { connect: onConnect, mail: onMail },
  close: (state) => {
    state.redis?.disconnect();
  },
};

export default ratelimit;
