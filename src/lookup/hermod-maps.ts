import type { MailDirectory } from '../store/roles.js';
import type { SocketmapLookup } from './socketmap-server.js';

/** Longest address SMTP allows (RFC 5321: 64 local part + @ + 255 domain). */
const MAX_ADDRESS = 320;

/**
 * The maps Hermod serves to Postfix, answered from the store:
 *
 * - `domain` for `virtual_mailbox_domains`: the key is a domain; found when it is local.
 * - `mailbox` for `virtual_mailbox_maps`: the key is an address; found when it names a mailbox or
 *   one of its aliases. The value is the mailbox's primary address (Postfix only needs "found",
 *   since delivery goes over LMTP, where Hermod resolves the alias itself).
 *
 * Postfix also probes wildcard keys (`@domain`, a bare local part, `.parent.domain`); those are
 * never in these maps, so an unknown address stays unknown and is refused at RCPT.
 */
export function hermodMaps(store: MailDirectory): Record<string, SocketmapLookup> {
  return {
    domain: async (key) => {
      const domain = key.trim().toLowerCase();
      if (!isDomainKey(domain)) return null;
      return (await store.isLocalDomain(domain)) ? domain : null;
    },
    mailbox: async (key) => {
      const address = key.trim();
      const at = address.lastIndexOf('@');
      if (at <= 0 || at === address.length - 1 || address.length > MAX_ADDRESS) return null;
      const mailbox = await store.resolveAddress(address);
      return mailbox ? mailbox.address : null;
    },
  };
}

function isDomainKey(key: string): boolean {
  return key.length > 0 && key.length <= 255 && !key.startsWith('.') && !key.includes('@') && !/\s/.test(key);
}
