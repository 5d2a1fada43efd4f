import { createHash } from 'node:crypto';
import type { Delivery } from '../../src/store/types.js';

let counter = 0;

/** Options for {@link rawMessage}. */
export interface RawMessageOptions {
  subject?: string;
  /** Makes the bytes distinct; a fresh value is used when omitted. */
  unique?: string;
}

/**
 * A raw message as an MTA would hand it over: CRLF line ends, a bare 8-bit body (Latin-1 é and a
 * 0xFF byte, invalid as UTF-8) so any accidental string round-trip shows up as changed bytes.
 */
export function rawMessage(options: RawMessageOptions = {}): Buffer {
  const unique = options.unique ?? `${process.pid}.${Date.now()}.${++counter}`;
  const head = [
    'From: Sender <sender@remote.test>',
    'To: alice@example.com',
    `Subject: ${options.subject ?? 'Hello'}`,
    `Message-ID: <${unique}@remote.test>`,
    'Date: Tue, 02 Jan 2024 10:00:00 +0000',
    'Content-Type: text/plain; charset=iso-8859-1',
    'Content-Transfer-Encoding: 8bit',
    '',
    'caf',
  ].join('\r\n');
  return Buffer.concat([
    Buffer.from(head, 'latin1'),
    Buffer.from([0xe9, 0x20, 0xff, 0x0d, 0x0a]),
    Buffer.from(`line two ${unique}\r\n.\r\nlast line without dot-stuffing\r\n`, 'latin1'),
  ]);
}

/**
 * A message of `size` bytes (give or take a line) with every byte value in its body, so a store
 * that keeps it in pieces or in a file shows any changed, lost or reordered byte.
 */
export function largeRawMessage(size: number): Buffer {
  const head = Buffer.from(rawMessage().toString('latin1').replace('\r\n\r\n', '\r\nX-Large: yes\r\n\r\n'), 'latin1');
  const body = Buffer.alloc(Math.max(0, size - head.length));
  for (let i = 0; i < body.length; i++) body[i] = (i * 131 + (i >> 16)) & 0xff;
  return Buffer.concat([head, body]);
}

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * A valid Delivery for `mailboxId`. The raw bytes are fresh unless given; sha256 always follows
 * the raw bytes unless overridden too.
 */
export function makeDelivery(mailboxId: string, overrides: Partial<Delivery> = {}): Delivery {
  const raw = overrides.raw ?? rawMessage();
  return {
    mailboxId,
    raw,
    sha256: sha256Hex(raw),
    prependHeaders: 'Received: from remote.test by mx.example.com with LMTP; Tue, 02 Jan 2024 10:00:01 +0000\r\n' +
      'X-Spam-Status: No, score=1.5\r\n',
    folder: 'INBOX',
    flags: [],
    tags: ['newsletter'],
    importance: 2,
    spamScore: 1.5,
    threadId: 'thread-1',
    summary: {
      subject: 'Hello',
      from: 'sender@remote.test',
      to: ['alice@example.com'],
      cc: ['bob@example.com'],
      date: new Date('2024-01-02T10:00:00Z'),
      messageId: '<m1@remote.test>',
      attachments: [{ filename: 'a.pdf', contentType: 'application/pdf', size: 10, sha256: 'ab'.repeat(32) }],
    },
    envelope: {
      mailFrom: 'sender@remote.test',
      rcptTo: 'alice@example.com',
      clientAddress: '192.0.2.1',
      transactionId: 'tx-1',
    },
    ledger: [
      { plugin: 'parse', stage: 'message', verdict: 'continue', score: 0, reason: 'parsed', durationMs: 1.25 },
      {
        plugin: 'spam',
        stage: 'message',
        verdict: 'continue',
        score: 1.5,
        reason: 'bayes',
        durationMs: 3,
        details: { tags: ['BAYES_50'], probability: 0.5 },
      },
    ],
    ...overrides,
  };
}
