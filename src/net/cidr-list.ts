import ipaddr from 'ipaddr.js';
import { z } from 'zod';

/** True for an IP address or a CIDR (v4 or v6). */
export function isAddressOrCidr(value: string): boolean {
  return ipaddr.isValid(value) || ipaddr.isValidCIDR(value);
}

/**
 * A config list of addresses/CIDRs, checked when the config is parsed (so `hermod config check`
 * names a bad entry) rather than when a plugin starts.
 */
export function cidrListSchema(defaults: string[]) {
  return z
    .array(z.string().trim().refine(isAddressOrCidr, { error: (issue) => `'${String(issue.input)}' is not an IP address or CIDR` }))
    .default(defaults);
}

/** Loopback in both families: mail from the local host is not greylisted or rate limited by default. */
export const LOOPBACK = ['127.0.0.0/8', '::1/128'];
