/** Who the client of a transaction is: its address, port and HELO name. */
export interface ClientIdentity {
  address: string;
  port: number;
  heloName: string;
}

/**
 * What Postfix (XFORWARD) or a proxy (XCLIENT) sends for an attribute it does not know, as
 * smtp-server hands it over: `false` for `[UNAVAILABLE]` / `[TEMPUNAVAIL]`, or the word itself.
 */
function unknown(value: unknown): boolean {
  if (value === false || value === undefined || value === null || value === '') return true;
  return typeof value === 'string' && /^\[(UNAVAILABLE|TEMPUNAVAIL)\]$/i.test(value);
}

/**
 * The client of one transaction, from the attributes a trusted MTA forwarded for it (ADDR,
 * PORT, HELO; the keys XFORWARD and XCLIENT share). Each transaction starts from the
 * connection's own identity, never from the previous transaction's: an attribute that was
 * not forwarded, or forwarded as unknown, is the connection's own (for ADDR and PORT: the MTA
 * itself is the nearest client known) or, for HELO, empty (unknown, so the Received header says
 * `unknown`, and the session's own LHLO still counts for the protocol).
 */
export function forwardedClient(own: ClientIdentity, attributes: ReadonlyMap<string, unknown> | undefined): ClientIdentity {
  const get = (key: string): unknown => attributes?.get(key);
  const addr = get('ADDR');
  const port = get('PORT');
  const helo = get('HELO');
  return {
    address: unknown(addr) ? own.address : String(addr),
    port: unknown(addr) ? own.port : unknown(port) ? 0 : Number(port) || 0,
    heloName: attributes?.has('HELO') ? (unknown(helo) ? '' : String(helo)) : own.heloName,
  };
}

/** Forgets the forwarded attributes once a transaction has taken them: the next one starts afresh. */
export function consumeForwarded(attributes: Map<string, unknown> | undefined): void {
  attributes?.clear();
}
