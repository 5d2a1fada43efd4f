/** What the trace header says about the client side of a transaction. */
export interface ReceivedFrom {
  listener: string;
  heloName: string;
  clientAddress: string;
  secure: boolean;
}

/**
 * The Received trace header (RFC 5321 §4.4) Hermod adds. The client address is the one the
 * PROXY header named, so the trace shows the real sender, not the load balancer.
 */
export function receivedHeader(
  session: ReceivedFrom,
  hostname: string,
  transactionId: string,
  recipients: readonly string[],
  now = new Date(),
): string {
  const helo = sanitize(session.heloName) || 'unknown';
  const protocol = session.listener === 'lmtp' ? 'LMTP' : 'ESMTP';
  const withTls = session.secure ? `${protocol}S` : protocol;
  const forClause = recipients.length === 1 ? `\r\n\tfor <${sanitize(recipients[0])}>` : '';
  return (
    `Received: from ${helo} ([${session.clientAddress}])\r\n` +
    `\tby ${hostname} (Hermod) with ${withTls} id ${transactionId}${forClause};\r\n` +
    `\t${rfc5322Date(now)}`
  );
}

/** Client-supplied text must not break the header: keep printable ASCII without brackets. */
function sanitize(text: string): string {
  return text.replace(/[^\x21-\x7e]/g, '').replace(/[()<>;[\]]/g, '');
}

function rfc5322Date(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}
