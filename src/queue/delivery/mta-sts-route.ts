import { checkServerIdentity, type TLSSocket } from 'node:tls';
import { DeliveryError } from '../../errors.js';
import { isNoRecord, type DnsLookup } from '../../net/dns-resolver.js';
import { mxMatches, type StsPolicy } from './mta-sts-policies.js';

/** An MX host as mx-connect takes it when the caller chose the hosts. */
export interface MxCandidate {
  exchange: string;
  priority: number;
}

/**
 * The MX hosts an `enforce` policy lets Hermod use (RFC 8461 §4.1): the domain's MX records (the
 * domain itself when it has none, RFC 5321 §5.1) that match a pattern of the policy. None left is
 * a temporary failure: the policy or the MX records may be fixed, and a new policy id is looked
 * for before every attempt (§5.1 step 3), so the job is retried, never bounced for this.
 */
export async function enforcedMx(domain: string, policy: StsPolicy, lookup: DnsLookup): Promise<MxCandidate[]> {
  let records: MxCandidate[] = [];
  try {
    records = (await lookup(domain, 'MX')) as MxCandidate[];
  } catch (err) {
    if (!isNoRecord(err)) throw new DeliveryError(`MX lookup for ${domain} failed: ${(err as Error).message}`, 0, { cause: err });
  }
  const candidates = records.length > 0 ? records : [{ exchange: domain, priority: 0 }];
  const allowed = candidates.filter((r) => mxMatches(r.exchange, policy.mx));
  if (allowed.length > 0) return allowed;
  const names = candidates.map((r) => r.exchange).join(', ');
  throw new DeliveryError(`MTA-STS policy check failed: no MX host of ${domain} (${names}) is listed in its enforce policy (id ${policy.id})`, 0);
}

/**
 * Why the peer's certificate would not pass PKIX validation for the MX name (RFC 8461 §4.2:
 * a chain to a trusted CA, and the MX host name among its names), or null when it passes.
 */
export function pkixProblem(socket: TLSSocket, hostname: string): string | null {
  if (!socket.authorized) return `certificate not trusted (${String(socket.authorizationError ?? 'unknown reason')})`;
  const mismatch = checkServerIdentity(hostname, socket.getPeerCertificate());
  return mismatch ? mismatch.message : null;
}
