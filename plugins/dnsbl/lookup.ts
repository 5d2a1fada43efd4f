import ipaddr from 'ipaddr.js';
import { isNoRecord, normalizeAddress, type DnsLookup } from '../../src/plugin-api.js';
import type { DnsblZone } from './config.js';

/** What one zone said about the client. */
export interface ZoneResult {
  zone: string;
  /** Listed answers that count, with the weight each gives. */
  hits: { answer: string; weight: number }[];
  /** Set when the lookup failed (timeout, SERVFAIL) or the list answered with an error code. */
  error?: string;
}

/**
 * The query name of an address in a zone: IPv4 octets reversed (1.2.3.4 → 4.3.2.1.zone),
 * IPv6 nibbles reversed (RFC 5782).
 */
export function queryName(address: string, zone: string): string {
  const addr = normalizeAddress(address);
  if (addr.kind() === 'ipv4') return `${addr.toString().split('.').reverse().join('.')}.${zone}`;
  const hex = (addr as ipaddr.IPv6)
    .toByteArray()
    .map((b) => b.toString(16).padStart(2, '0'))
    .join('');
  return `${[...hex].reverse().join('.')}.${zone}`;
}

// 127.255.255.0/24 is how lists (Spamhaus) say "refused" (public resolver, over quota): not a listing.
const isErrorAnswer = (answer: string): boolean => answer.startsWith('127.255.255.');

function scoreAnswers(zone: DnsblZone, answers: string[]): ZoneResult {
  const errors = answers.filter(isErrorAnswer);
  const hits: ZoneResult['hits'] = [];
  const specific = Object.keys(zone.answers).length > 0;
  for (const answer of answers) {
    if (isErrorAnswer(answer) || !answer.startsWith('127.')) continue;
    if (!specific) hits.push({ answer, weight: zone.weight });
    else if (answer in zone.answers) hits.push({ answer, weight: zone.answers[answer] });
  }
  // Several answers from one list are one listing: the largest weight (by size) counts.
  const best = hits.sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight)).slice(0, 1);
  return { zone: zone.zone, hits: best, ...(errors.length ? { error: `list refused the query (${errors[0]})` } : {}) };
}

/** Asks one zone; a missing name is "not listed", any other failure is recorded, never thrown. */
export async function lookupZone(lookup: DnsLookup, address: string, zone: DnsblZone): Promise<ZoneResult> {
  try {
    const answers = (await lookup(queryName(address, zone.zone), 'A')) as string[];
    return scoreAnswers(zone, answers);
  } catch (err) {
    if (isNoRecord(err)) return { zone: zone.zone, hits: [] };
    return { zone: zone.zone, hits: [], error: (err as { code?: string }).code ?? (err as Error).message };
  }
}
