import type { Reply } from '../mail/replies.js';
import type { Decision } from '../pipeline/decision.js';
import type { Transaction } from '../pipeline/types.js';
import type { RecipientOutcome } from '../transaction/recipient-outcome.js';
import type { SessionState } from './session-state.js';

/** Client-chosen text (HELO name, Message-ID) is cut to this many characters in a log line. */
const MAX_TEXT = 256;

/** One recipient's result on the transaction line. */
interface RecipientLog {
  to: string;
  reply: string;
  /** stored | duplicate | refused (a plugin's verdict) | spam-rejected | spam-deferred | over-quota | store-failed */
  outcome: string;
  folder?: string;
  score?: number;
  entry?: string;
  /** The stored entry's size, as `message list` shows it (Hermod's headers + the bytes received). */
  size?: number;
  /** SMTP only: refused for good while others were stored, so the copy was dropped (see singleReply). */
  dropped?: true;
}

/**
 * The fields of the one log line per transaction (`msg: "transaction"`), like Postfix's smtpd and
 * qmgr lines together: who connected and how (HELO, TLS), what came (Message-ID, bytes received)
 * and what each recipient got (reply, folder, spam score, stored entry and its size).
 */
export function transactionLogFields(
  state: SessionState,
  txn: Transaction,
  bytes: number,
  results: [RecipientOutcome, Reply][],
  decisions: readonly Decision[] = [],
  dropped: readonly string[] = [],
): Record<string, unknown> {
  const info = state.info;
  return {
    txn: txn.id,
    client: info.clientAddress,
    peer: info.proxied ? info.peerAddress : undefined,
    relay: state.relayAddress,
    helo: cut(info.heloName) || undefined,
    tls: info.tls ? `${info.tls.protocol} ${info.tls.cipher}` : undefined,
    from: txn.mailFrom,
    messageId: txn.parsed?.messageId ? cut(txn.parsed.messageId) : undefined,
    rcpt: results.map(([o, r], i) => recipientLog(o, r, decisions[i], dropped.includes(o.recipient.address))),
    bytes,
  };
}

function recipientLog(o: RecipientOutcome, r: Reply, decision: Decision | undefined, dropped: boolean): RecipientLog {
  const stored = o.kind === 'stored';
  return {
    to: o.recipient.address,
    reply: `${r.code} ${r.enhanced}`,
    outcome: stored ? (o.duplicate ? 'duplicate' : 'stored') : o.kind === 'verdict' ? 'refused' : o.kind,
    folder: stored && !o.duplicate ? decision?.folder : undefined,
    score: decision ? Math.round(decision.score * 100) / 100 : undefined,
    entry: stored ? o.entryId : undefined,
    size: stored && !o.duplicate ? o.size : undefined,
    dropped: dropped ? true : undefined,
  };
}

function cut(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
}
