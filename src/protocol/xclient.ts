import type { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import type { NetworkList } from '../net/network-list.js';

/** The longest HELO name taken from XCLIENT; a longer one is treated as unknown. */
const MAX_HELO_LENGTH = 255;

/** Which MTAs may use which forwarding command, matched against the address after PROXY decoding. */
export interface ForwardingTrust {
  /** xforward.trusted: XFORWARD annotates the transaction with the MTA's client. */
  xforward?: NetworkList;
  /** xclient.trusted: XCLIENT hands the whole session over to the MTA's client. */
  xclient?: NetworkList;
}

/**
 * Whether `connection` may use XCLIENT or XFORWARD. smtp-server trusts exact peer addresses;
 * Hermod trusts CIDRs per command, matched against the client address its accept step found
 * (after PROXY decoding), so HAProxy in between does not hide which MTA is asking. Once XCLIENT
 * has named a client (ADDR, even as [UNAVAILABLE]), the session belongs to that client and
 * neither command is offered again.
 */
export function forwardingAllowed(connection: SMTPConnection, trust: ForwardingTrust, option: 'useXClient' | 'useXForward', command: string): boolean {
  const trusted = option === 'useXClient' ? trust.xclient : trust.xforward;
  return (
    !!trusted &&
    !connection._xClient.has('ADDR') &&
    trusted.contains(connection._originalRemoteAddress) &&
    (connection as unknown as { _isSupported(command: string): boolean })._isSupported(command)
  );
}

/**
 * After XCLIENT the MTA greets again with its own name, but the HELO name that belongs in the
 * record is the one its client used, which XCLIENT HELO= carried. smtp-server keeps that value
 * without applying it; this applies it once the new greeting was accepted. [UNAVAILABLE] (or
 * [TEMPUNAVAIL]) means the MTA does not know it: then nothing is replaced, and the session keeps
 * the name the MTA greeted with, so a transaction never fails for want of a HELO name.
 */
export function adoptForwardedHelo(connection: SMTPConnection): void {
  if (!connection.hostNameAppearsAs) return;
  const helo = connection._xClient.get('HELO');
  if (typeof helo !== 'string' || helo.length === 0 || helo.length > MAX_HELO_LENGTH) return;
  connection.hostNameAppearsAs = helo.toLowerCase();
  connection.session.hostNameAppearsAs = connection.hostNameAppearsAs;
}
