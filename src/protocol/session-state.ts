import type { LedgerLine } from '../store/types.js';
import type { SessionInfo, Transaction } from '../pipeline/types.js';

/** What Hermod keeps per SMTP/LMTP connection, beside smtp-server's own session. */
export interface SessionState {
  info: SessionInfo;
  /** Ledger lines of the connect and helo stages, copied into every transaction's ledger. */
  sessionLedger: LedgerLine[];
  heloChecked?: string;
  transaction?: Transaction;
  /** Ledger lines of mail and rcpt stages for the current transaction. */
  transactionLedger: LedgerLine[];
  transactionCount: number;
  counted: boolean;
  /**
   * The MTA's own address when its XFORWARD named the original client (which is then
   * info.clientAddress); the per-client connection count stays on the MTA's address.
   */
  relayAddress?: string;
}

/** How the accept step tells the session handler about the peer behind a proxied address. */
export interface PeerInfo {
  peerAddress: string;
  proxied: boolean;
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
