import { isIP } from 'node:net';
import type { ConfigProblem } from './config-source.js';
import type { HermodConfig } from './schema.js';

/**
 * Checks across keys that the schema cannot express one key at a time: the spam thresholds in
 * order, no two listeners on one address, TLS keys in pairs, DNS server syntax. Pure: no file or
 * network is touched, so every command can afford them.
 */
export function semanticProblems(config: HermodConfig, given: Record<string, unknown> = {}): ConfigProblem[] {
  return [...thresholdProblems(config, given), ...portClashes(config), ...tlsProblems(config), ...dnsServerProblems(config)];
}

const BANDS = ['addHeader', 'junk', 'tempfail', 'reject'] as const;

/**
 * addHeader ≤ junk ≤ tempfail ≤ reject, globally and among the keys each mailbox sets. Of two
 * keys out of order, the one the operator wrote is named (a default is not at fault).
 */
function thresholdProblems(config: HermodConfig, given: Record<string, unknown>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const global = config.scoring;
  const check = (values: Record<(typeof BANDS)[number], number | null | undefined>, prefix: (string | number)[], own: (k: string) => boolean) => {
    let previous: { key: string; value: number } | undefined;
    for (const key of BANDS) {
      const value = values[key];
      if (value === null || value === undefined) continue;
      if (previous && value < previous.value && (own(key) || own(previous.key) || prefix.length === 1)) {
        problems.push({
          path: [...prefix, own(key) || !own(previous.key) ? key : previous.key],
          message: `${key} (${value}) is below ${previous.key} (${previous.value}); the order must be addHeader ≤ junk ≤ tempfail ≤ reject`,
        });
      }
      previous = { key, value };
    }
  };
  const givenScoring = (given.scoring ?? {}) as Record<string, unknown>;
  check(global, ['scoring'], (k) => givenScoring[k] !== undefined);
  // A mailbox's own keys are held to the order among themselves; a key it leaves out falls back
  // to the global one, and a stricter `reject: 3` alone (below the global junk) is a choice.
  for (const [address, own] of Object.entries(global.mailboxes)) {
    const values = { addHeader: own.addHeader, junk: own.junk, tempfail: own.tempfail, reject: own.reject };
    check(values, ['scoring', 'mailboxes', address], (k) => (own as Record<string, unknown>)[k] !== undefined);
  }
  return problems;
}

/** Every enabled listener with a fixed port, by the key that sets its port. */
function listeners(c: HermodConfig): { path: string[]; host: string; port: number }[] {
  const out: { path: string[]; host: string; port: number }[] = [];
  const add = (enabled: boolean, path: string[], host: string, port: number | null) => {
    if (enabled && port !== null && port !== 0) out.push({ path, host, port });
  };
  add(c.lmtp.enabled, ['lmtp', 'port'], c.lmtp.host, c.lmtp.port);
  add(c.smtp.enabled, ['smtp', 'port'], c.smtp.host, c.smtp.port);
  add(c.submission.enabled, ['submission', 'port'], c.submission.host, c.submission.port);
  add(c.submission.enabled, ['submission', 'implicitTlsPort'], c.submission.host, c.submission.implicitTlsPort);
  add(c.lookup.enabled, ['lookup', 'port'], c.lookup.host, c.lookup.port);
  add(c.ops.enabled, ['ops', 'port'], c.ops.host, c.ops.port);
  return out;
}

const WILDCARDS = new Set(['', '0.0.0.0', '::', '[::]', '*']);

function sameAddress(a: string, b: string): boolean {
  const norm = (h: string) => (h.toLowerCase() === 'localhost' ? '127.0.0.1' : h.toLowerCase());
  return WILDCARDS.has(a) || WILDCARDS.has(b) || norm(a) === norm(b);
}

/** Two listeners on one port of one address: the second would fail with EADDRINUSE at start. */
function portClashes(config: HermodConfig): ConfigProblem[] {
  const all = listeners(config);
  const problems: ConfigProblem[] = [];
  all.forEach((later, i) => {
    const earlier = all.slice(0, i).find((e) => e.port === later.port && sameAddress(e.host, later.host));
    if (earlier) {
      problems.push({ path: later.path, message: `port ${later.port} is already used by ${earlier.path.join('.')} on ${earlier.host}` });
    }
  });
  return problems;
}

function tlsProblems(config: HermodConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { key, cert } = config.tls;
  if (key && !cert) problems.push({ path: ['tls', 'cert'], message: 'missing: tls.key is set, and STARTTLS needs both' });
  if (cert && !key) problems.push({ path: ['tls', 'key'], message: 'missing: tls.cert is set, and STARTTLS needs both' });
  if (config.submission.enabled && config.submission.implicitTlsPort !== null && !(key && cert)) {
    problems.push({ path: ['submission', 'implicitTlsPort'], message: 'needs tls.key and tls.cert' });
  }
  return problems;
}

/** `ip`, `ip:port` or `[ipv6]:port`, as node:dns setServers takes them. */
function dnsServerProblems(config: HermodConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  config.delivery.dnsServers.forEach((server, i) => {
    const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(server);
    const hostPort = /^([^:]+):(\d{1,5})$/.exec(server);
    const host = bracketed ? bracketed[1] : hostPort ? hostPort[1] : server;
    const port = bracketed ? bracketed[2] : hostPort?.[2];
    if (isIP(host) === 0 || (port !== undefined && (Number(port) < 1 || Number(port) > 65535))) {
      problems.push({ path: ['delivery', 'dnsServers', i], message: `'${server}' is not an IP address or ip:port` });
    }
  });
  return problems;
}
