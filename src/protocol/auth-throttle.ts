import ipaddr from 'ipaddr.js';

/**
 * Counts failed logins per client and per user within a sliding window; past either limit
 * further attempts are refused without a password check (the authThrottled reply), so guessing is slow
 * whether one address tries many users or many addresses try one user.
 *
 * Both keys are canonical, or the limits could be walked around: a user is counted under its
 * mailbox (`Alice+x@…` and an alias count as alice, see `userKey`), and an IPv6 client under its
 * /64, the block one subscriber gets (RFC 6177), not under each of its 2^64 addresses.
 */
export class AuthThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limits: { perClient: number; perUser: number; windowMs: number },
  ) {}

  /** True when the client or the user has used up its failures. `user` is a `userKey`. */
  blocked(client: string, user: string, now = Date.now()): boolean {
    return this.count(`c:${clientKey(client)}`, now) >= this.limits.perClient || this.count(`u:${user}`, now) >= this.limits.perUser;
  }

  fail(client: string, user: string, now = Date.now()): void {
    for (const key of [`c:${clientKey(client)}`, `u:${user}`]) {
      const list = this.recent(key, now);
      list.push(now);
      this.failures.set(key, list);
    }
    if (this.failures.size > 100_000) this.prune(now);
  }

  private count(key: string, now: number): number {
    return this.recent(key, now).length;
  }

  private recent(key: string, now: number): number[] {
    return (this.failures.get(key) ?? []).filter((t) => now - t < this.limits.windowMs);
  }

  private prune(now: number): void {
    for (const [key, list] of this.failures) if (list.every((t) => now - t >= this.limits.windowMs)) this.failures.delete(key);
  }
}

/**
 * The user a login counts against: the mailbox the name resolves to (an alias or a `+tag`
 * sub-address lands on its mailbox), else the name lower-cased without its `+tag`.
 */
export function userKey(name: string, mailboxAddress: string | null | undefined): string {
  if (mailboxAddress) return mailboxAddress.toLowerCase();
  return name.trim().toLowerCase().replace(/\+[^@]*(?=@|$)/, '');
}

/** The client a login counts against: an IPv4 address, or an IPv6 address's /64. */
export function clientKey(address: string): string {
  if (!ipaddr.isValid(address)) return address;
  let ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  if (ip.kind() === 'ipv4') return ip.toString();
  const parts = (ip as ipaddr.IPv6).parts.slice(0, 4).map((p) => p.toString(16));
  return `${parts.join(':')}::/64`;
}
