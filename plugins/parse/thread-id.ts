import { hash } from 'node:crypto';

/** Message-IDs in a header value, angle brackets included, in order. */
export function messageIds(value: string | undefined): string[] {
  if (!value) return [];
  return value.match(/<[^<>\s]+>/g) ?? [];
}

/**
 * The Message-ID of a Message-ID header: the first `<...>` token; a bare id is wrapped in
 * brackets so both forms compare equal.
 */
export function normalizeMessageId(value: string | undefined): string | null {
  if (!value) return null;
  const [first] = messageIds(value);
  if (first) return first;
  const bare = value.trim();
  return bare === '' ? null : `<${bare.replace(/^<|>$/g, '')}>`;
}

/** Subject without reply/forward prefixes and list tags, lower case, spaces collapsed. */
export function normalizeSubject(subject: string): string {
  let s = subject.trim();
  const prefix = /^(?:(?:re|fwd?|aw|sv|wg|tr)(?:\[\d+\])?\s*:|\[[^\]]*\])\s*/i;
  while (prefix.test(s)) s = s.replace(prefix, '');
  return s.replace(/\s+/g, ' ').toLowerCase();
}

export interface ThreadInput {
  references?: string;
  inReplyTo?: string;
  messageId: string | null;
  subject: string;
}

/**
 * A short stable thread id: the SHA-256 (first 16 hex digits) of the thread root. The root is
 * the first Message-ID of References, else In-Reply-To, else the message's own Message-ID, so
 * a reply and the message that started the thread hash the same. Without any id, the
 * normalized subject stands in (prefixed so it cannot collide with an id).
 */
export function deriveThreadId(input: ThreadInput): string {
  const root =
    messageIds(input.references)[0] ?? messageIds(input.inReplyTo)[0] ?? input.messageId ?? null;
  const key = root !== null ? `mid:${root}` : `subject:${normalizeSubject(input.subject)}`;
  // The one-shot digest: no Hash object per message.
  return hash('sha256', key, 'hex').slice(0, 16);
}
