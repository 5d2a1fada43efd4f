import ipaddr from 'ipaddr.js';
import { ConfigError } from '../errors.js';

/**
 * A list of CIDRs (or single addresses) to test client addresses against. IPv4-mapped IPv6
 * addresses (::ffff:1.2.3.4, as a dual-stack socket reports them) match their IPv4 entries.
 */
export class NetworkList {
  private readonly ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][];

  /** @param key config key the list came from, named in errors */
  constructor(cidrs: readonly string[], key: string) {
    this.ranges = cidrs.map((cidr, i) => {
      try {
        return cidr.includes('/') ? ipaddr.parseCIDR(cidr) : fullRange(ipaddr.parse(cidr));
      } catch {
        throw new ConfigError(`${key}[${i}]: '${cidr}' is not an IP address or CIDR`);
      }
    });
  }

  get empty(): boolean {
    return this.ranges.length === 0;
  }

  contains(address: string): boolean {
    if (this.ranges.length === 0 || !ipaddr.isValid(address)) return false;
    const addr = normalizeAddress(address);
    return this.ranges.some(([range, bits]) => addr.kind() === range.kind() && addr.match(range, bits));
  }
}

function fullRange(addr: ipaddr.IPv4 | ipaddr.IPv6): [ipaddr.IPv4 | ipaddr.IPv6, number] {
  return [addr, addr.kind() === 'ipv4' ? 32 : 128];
}

/** Parses and unwraps IPv4-mapped IPv6. */
export function normalizeAddress(address: string): ipaddr.IPv4 | ipaddr.IPv6 {
  const addr = ipaddr.parse(address);
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
    return (addr as ipaddr.IPv6).toIPv4Address();
  }
  return addr;
}
