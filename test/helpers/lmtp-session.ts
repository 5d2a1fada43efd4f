/** One LMTP transaction as an MTA behind HAProxy would make it, for end-to-end tests. */
import { RawSmtpClient, type WireReply } from './smtp-client.js';

export interface LmtpTransaction {
  /** Client address named in a PROXY v1 header (the listener must trust 127.0.0.1). */
  client?: string;
  helo?: string;
  from: string;
  to: string[];
  /** The message, CRLF line ends; dot-stuffed here. */
  message: string;
}

export interface LmtpResult {
  mail: WireReply;
  rcpt: WireReply[];
  /** One reply per accepted recipient (none when no recipient was accepted). */
  data: WireReply[];
  /** Entry ids from "delivered as ID" replies, in order (undefined for refused recipients). */
  entryIds: (string | undefined)[];
}

/** Runs LHLO, MAIL, RCPT…, DATA and reads LMTP's per-recipient replies; throws when refused at connect. */
export async function lmtpTransaction(port: number, t: LmtpTransaction): Promise<LmtpResult> {
  const preamble = t.client ? Buffer.from(`PROXY TCP4 ${t.client} 127.0.0.1 40000 ${port}\r\n`) : undefined;
  const client = await RawSmtpClient.open(port, '127.0.0.1', preamble);
  try {
    const greeting = await client.reply();
    if (greeting.code !== 220) throw new Error(`refused at connect: ${greeting.text}`);
    await client.command(`LHLO ${t.helo ?? 'mta.test'}`);
    const mail = await client.command(`MAIL FROM:<${t.from}>`);
    const rcpt: WireReply[] = [];
    for (const to of t.to) rcpt.push(await client.command(`RCPT TO:<${to}>`));
    const accepted = rcpt.filter((r) => r.code === 250).length;
    const data: WireReply[] = [];
    if (mail.code === 250 && accepted > 0) {
      await client.command('DATA');
      const body = t.message.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
      client.write(`${body}${body.endsWith('\r\n') ? '' : '\r\n'}.\r\n`);
      for (let i = 0; i < accepted; i++) data.push(await client.reply(20_000));
    }
    return { mail, rcpt, data, entryIds: data.map((r) => /delivered as (\S+)/.exec(r.text)?.[1]) };
  } finally {
    client.close();
  }
}
