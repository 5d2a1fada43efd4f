import ipaddr from 'ipaddr.js';
import { normalizeAddress } from '../../src/plugin-api.js';
import type { GreylistConfig } from './config.js';

/** What the store keeps per triplet. Times are epoch milliseconds. */
export interface TripletRecord {
  firstSeen: number;
  /** 0 until a retry came after the delay; then the time the pass expires. */
  passedUntil: number;
}

/** The client network: 192.0.2.77 → 192.0.2.0/24, so a sender's pool of outbound hosts counts once. */
export function clientNetwork(address: string, config: Pick<GreylistConfig, 'ipv4Prefix' | 'ipv6Prefix'>): string {
  const addr = normalizeAddress(address);
  const bits = addr.kind() === 'ipv4' ? config.ipv4Prefix : config.ipv6Prefix;
  const bytes = addr.toByteArray();
  const masked = bytes.map((b, i) => {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    return b & (0xff << (8 - keep)) & 0xff;
  });
  return `${ipaddr.fromByteArray(masked).toString()}/${bits}`;
}

/** The triplet key: client network, sender (`<>` for the null sender) and recipient, lower case. */
export function tripletKey(network: string, sender: string, recipient: string): string {
  return `${network}|${sender.toLowerCase() || '<>'}|${recipient.toLowerCase()}`;
}

/** new: first sight (or the old one lapsed); early: retried before the delay; passed: this retry passes; known: passed before. */
export type TripletState = 'new' | 'early' | 'passed' | 'known';

export interface TripletDecision {
  state: TripletState;
  /** The record to store, with the time it may be forgotten; undefined leaves the store as it is. */
  write?: { record: TripletRecord; expiresAt: number };
  /** For new/early: seconds until a retry passes. */
  retryAfterSeconds?: number;
}

type Timing = Pick<GreylistConfig, 'delaySeconds' | 'retryWindowSeconds' | 'passSeconds'>;

/** The greylisting rule, apart from any store, so it is testable with plain numbers. */
export function decideTriplet(record: TripletRecord | undefined, now: number, t: Timing): TripletDecision {
  const pass = (): TripletDecision => {
    const passedUntil = now + t.passSeconds * 1000;
    return { state: record!.passedUntil > now ? 'known' : 'passed', write: { record: { firstSeen: record!.firstSeen, passedUntil }, expiresAt: passedUntil } };
  };
  if (record && record.passedUntil > now) return pass();
  const waiting = record && record.passedUntil === 0 && now - record.firstSeen <= t.retryWindowSeconds * 1000;
  if (!record || !waiting) {
    const fresh = { firstSeen: now, passedUntil: 0 };
    return { state: 'new', write: { record: fresh, expiresAt: now + t.retryWindowSeconds * 1000 }, retryAfterSeconds: t.delaySeconds };
  }
  const elapsed = now - record.firstSeen;
  if (elapsed < t.delaySeconds * 1000) {
    return { state: 'early', retryAfterSeconds: Math.ceil((t.delaySeconds * 1000 - elapsed) / 1000) };
  }
  return pass();
}
