import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { HermodConfig } from '../config/schema.js';
import type { Metrics } from '../ops/metrics.js';
import type { LedgerLine, SessionInfo } from '../pipeline/types.js';
import type { OpenTransaction, TransactionCore } from '../transaction/transaction-core.js';
import type { ClientIdentity } from './forwarded-attributes.js';
import type { InflightBudget } from './inflight-budget.js';
import type { MessageSpool } from './message-spool.js';

/** What the LMTP and SMTP listeners' handlers share: the transaction core and the listener's setting. */
export interface ListenerDeps {
  listener: 'lmtp' | 'smtp';
  config: HermodConfig;
  transactions: TransactionCore;
  log: Logger;
  /** Peer details recorded by the accept step, by connection id. */
  peers: Map<string, PeerInfo>;
  /** Connection, recipient and transaction counts for /metrics; none when the ops endpoint is off. */
  metrics?: Metrics;
  /** Where DATA goes past limits.spoolThresholdBytes; shared by the listeners. */
  spool: MessageSpool;
  /** limits.maxInflightBytes over all listeners. */
  budget: InflightBudget;
}

/** What Hermod keeps per SMTP/LMTP connection, beside smtp-server's own session. */
export interface SessionState {
  info: SessionInfo;
  /** The client as the connection itself knows it (after PROXY decoding), before any XFORWARD. */
  own: ClientIdentity;
  /** Ledger lines of the connect and helo stages, copied into every transaction's ledger. */
  sessionLedger: LedgerLine[];
  heloChecked?: string;
  open?: OpenTransaction;
  transactionCount: number;
  /** The address counted against the per-client limit; none when not counted (trusted MTAs). */
  counted?: string;
  /**
   * The MTA's own address when its XFORWARD named the original client (which is then
   * info.clientAddress), for the log line.
   */
  relayAddress?: string;
  /** The accepted connection (see PeerInfo.socket). */
  socket?: Socket;
}

/** How the accept step tells the session handler about the peer behind a proxied address. */
export interface PeerInfo {
  peerAddress: string;
  proxied: boolean;
  /**
   * The accepted connection. smtp-server writes LMTP's per-recipient DATA replies one write each;
   * the DATA handler corks the socket around them so that they leave together.
   */
  socket?: Socket;
}

/** Counts open connections per client address, for the per-client limit. */
export class ClientCounter {
  private readonly counts = new Map<string, number>();

  /** Adds a connection; false (and nothing counted) when over the limit. */
  tryAdd(address: string, limit: number): boolean {
    const n = this.counts.get(address) ?? 0;
    if (n >= limit) return false;
    this.counts.set(address, n + 1);
    return true;
  }

  remove(address: string): void {
    const n = (this.counts.get(address) ?? 1) - 1;
    if (n <= 0) this.counts.delete(address);
    else this.counts.set(address, n);
  }
}
