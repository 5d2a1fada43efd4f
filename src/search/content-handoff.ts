import { contentBytes, type MessageContent } from '../mail/message-content.js';

/** Options for {@link ContentHandoff}. */
export interface ContentHandoffOptions {
  /** Bytes of content held at most (an estimate, see contentBytes); 0 holds nothing. @defaultValue 16 MiB */
  maxBytes?: number;
  /** How long a content waits for the indexer before it is dropped, in milliseconds. @defaultValue 30000 */
  ttlMs?: number;
  /** The clock, in milliseconds. @defaultValue Date.now */
  now?: () => number;
}

interface Held {
  content: MessageContent;
  bytes: number;
  expiresAt: number;
}

/** What the handoff has done, for the indexer's log and for tests. */
export interface HandoffCounts {
  offered: number;
  /** Offers not kept: one content larger than an eighth of the budget. */
  tooLarge: number;
  /** Contents dropped unread to make room or because they waited too long. */
  dropped: number;
  taken: number;
  /** Lookups that found nothing: the indexer read and parsed the stored bytes instead. */
  missed: number;
}

/**
 * Content parsed at delivery, held for this process's indexer so it need not read the message
 * back and parse it again. Keyed by SHA-256: the raw bytes of a SHA-256 never change, so a content
 * is right for every entry made of them. Bounded: a byte budget (the oldest goes first), a time
 * to live, and content dropped once indexed. A miss only costs the read and parse it saves, so
 * losing content (a restart, another node indexing, an eviction) is always safe.
 */
export class ContentHandoff {
  private readonly held = new Map<string, Held>();
  private readonly maxBytes: number;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private bytes = 0;
  readonly counts: HandoffCounts = { offered: 0, tooLarge: 0, dropped: 0, taken: 0, missed: 0 };

  constructor(options: ContentHandoffOptions = {}) {
    this.maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
    this.ttlMs = options.ttlMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  /** Bytes held now (estimated). */
  get heldBytes(): number {
    return this.bytes;
  }

  /** Keeps the content of the message `sha256` for the indexer, if it fits the budget. */
  offer(sha256: string, content: MessageContent): void {
    this.counts.offered++;
    const bytes = contentBytes(content);
    // One large message would push out many small ones, each of which saves as much work; its
    // stored bytes are read back and parsed like those of any message without content.
    if (bytes > this.maxBytes / 8) {
      this.counts.tooLarge++;
      return;
    }
    this.sweep();
    this.forget(sha256);
    for (const [key] of this.held) {
      if (this.bytes + bytes <= this.maxBytes) break;
      this.forget(key);
      this.counts.dropped++;
    }
    this.held.set(sha256, { content, bytes, expiresAt: this.now() + this.ttlMs });
    this.bytes += bytes;
  }

  /** The content of the message `sha256`, while held; it stays until release() or its time is up. */
  get(sha256: string): MessageContent | undefined {
    const held = this.held.get(sha256);
    if (!held || held.expiresAt <= this.now()) {
      this.counts.missed++;
      return undefined;
    }
    this.counts.taken++;
    return held.content;
  }

  /** Drops the contents of messages now indexed (every entry made of them in the same batch). */
  release(sha256s: Iterable<string>): void {
    for (const sha256 of sha256s) this.forget(sha256);
  }

  /** Drops what has waited longer than the time to live (the oldest are first in the map). */
  sweep(): void {
    const now = this.now();
    for (const [key, held] of this.held) {
      if (held.expiresAt > now) break;
      this.forget(key);
      this.counts.dropped++;
    }
  }

  private forget(sha256: string): void {
    const held = this.held.get(sha256);
    if (!held) return;
    this.held.delete(sha256);
    this.bytes -= held.bytes;
  }
}
