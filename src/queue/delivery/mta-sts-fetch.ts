import { request } from 'node:https';
import { parsePolicy } from 'mailauth/lib/mta-sts.js';
import type { DnsLookup } from '../../net/dns-resolver.js';
import { isNoRecord } from '../../net/dns-resolver.js';

/** A policy document as RFC 8461 §3.2 defines it, after parsing and checking. */
export interface StsPolicyDocument {
  mode: 'enforce' | 'testing' | 'none';
  /** MX patterns, lower case: a name, or `*.` and a name (one leftmost label). */
  mx: string[];
  /** Seconds the sender may keep the policy. */
  maxAge: number;
}

/** A policy in force for a domain, as cached. */
export interface StsPolicy extends StsPolicyDocument {
  /** The `id` of the `_mta-sts` TXT record the policy was fetched under. */
  id: string;
  /** Epoch ms of the fetch. */
  fetchedAt: number;
  /** Epoch ms after which the policy no longer applies (fetch + max_age, capped). */
  expiresAt: number;
}

/** How to reach a policy host. */
export interface PolicyFetchOptions {
  lookup: DnsLookup;
  /** 443 by RFC 8461; tests point it at a local HTTPS server. */
  port: number;
  /** Trusted CAs (system roots plus delivery.caFile); unset = node's default roots. */
  ca?: Buffer;
  timeoutMs: number;
  maxBytes: number;
}

/** A real policy has a handful of lines (version, mode, max_age, a few mx). */
const MAX_POLICY_LINES = 1000;

/** A fetch that did not give a usable policy; the reason goes to the log. */
export class PolicyFetchError extends Error {}

/**
 * Fetches `https://mta-sts.<domain>/.well-known/mta-sts.txt` (RFC 8461 §3.3): the policy host's
 * address comes from Hermod's resolver, the certificate must be valid for `mta-sts.<domain>`
 * (system CAs plus delivery.caFile), only a 200 with `text/plain` counts (no redirects are
 * followed), and the body is bounded in size and the whole exchange in time. mailauth parses it.
 */
export async function fetchStsPolicy(domain: string, options: PolicyFetchOptions): Promise<StsPolicyDocument> {
  const host = `mta-sts.${domain}`;
  const address = await policyHostAddress(host, options.lookup);
  const body = await httpsGet(host, address, options);
  // mailauth's parser drops repeated mx lines with a scan per line: bound the lines first.
  if (countLines(body) > MAX_POLICY_LINES) throw new PolicyFetchError(`policy from ${host} has more than ${MAX_POLICY_LINES} lines`);
  try {
    const parsed = parsePolicy(body) as { mode: StsPolicyDocument['mode']; mx?: string[]; maxAge: number };
    return { mode: parsed.mode, mx: parsed.mx ?? [], maxAge: parsed.maxAge };
  } catch (err) {
    throw new PolicyFetchError(`invalid policy from ${host}: ${(err as Error).message}`);
  }
}

async function policyHostAddress(host: string, lookup: DnsLookup): Promise<string> {
  for (const type of ['A', 'AAAA']) {
    try {
      const addresses = (await lookup(host, type)) as string[];
      if (addresses.length > 0) return addresses[0];
    } catch (err) {
      if (!isNoRecord(err)) throw new PolicyFetchError(`cannot resolve ${host}: ${(err as Error).message}`);
    }
  }
  throw new PolicyFetchError(`${host} has no address`);
}

function httpsGet(host: string, address: string, options: PolicyFetchOptions): Promise<Buffer> {
  return new Promise((resolveOnce, reject) => {
    let settled = false;
    const resolve = (body: Buffer) => {
      settled = true;
      clearTimeout(timer);
      resolveOnce(body);
    };
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(new PolicyFetchError(`https://${host}/.well-known/mta-sts.txt: ${why}`));
    };
    const req = request(
      {
        host: address,
        port: options.port,
        servername: host,
        path: '/.well-known/mta-sts.txt',
        method: 'GET',
        headers: { host, accept: 'text/plain' },
        rejectUnauthorized: true,
        ...(options.ca ? { ca: options.ca } : {}),
        agent: false,
      },
      (res) => {
        const type = String(res.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
        if (res.statusCode !== 200) return fail(`HTTP ${res.statusCode ?? '?'} (redirects are not followed)`);
        if (type !== 'text/plain') return fail(`content type ${type || 'missing'}, not text/plain`);
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > options.maxBytes) return fail(`policy larger than ${options.maxBytes} bytes`);
          chunks.push(chunk);
        });
        res.on('end', () => !settled && resolve(Buffer.concat(chunks)));
        res.on('error', (err) => fail(err.message));
      },
    );
    // One deadline for connect, handshake and body: a slow-drip server cannot hold the attempt.
    const timer = setTimeout(() => fail(`no policy within ${options.timeoutMs} ms`), options.timeoutMs);
    req.on('error', (err) => fail(err.message));
    req.end();
  });
}

function countLines(body: Buffer): number {
  let lines = 1;
  for (let i = body.indexOf(10); i >= 0; i = body.indexOf(10, i + 1)) lines += 1;
  return lines;
}
