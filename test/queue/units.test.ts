import { describe, expect, it } from 'vitest';
import { statusOf } from '../../src/queue/dsn-builder.js';
import { RetryPolicy } from '../../src/queue/retry-policy.js';
import { hashPassword, verifyPassword } from '../../src/protocol/password-hash.js';
import { withoutBcc } from '../../src/mail/message-headers.js';

describe('retry schedule (defaults: 5 min doubling, at most 4 h apart, give up after 5 days)', () => {
  const policy = new RetryPolicy({ firstMs: 300_000, factor: 2, maxIntervalMs: 14_400_000, giveUpMs: 432_000_000 }, 14_400_000);
  it('doubles from 5 minutes and caps at 4 hours', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => policy.delayAfter(n) / 60_000)).toEqual([5, 10, 20, 40, 80, 160, 240, 240]);
  });
  it('never schedules past the give-up age, and gives up at it', () => {
    const created = 0;
    expect(policy.nextAttempt(created, 3, 1000)).toBe(1000 + 20 * 60_000);
    expect(policy.nextAttempt(created, 30, 431_000_000)).toBe(432_000_000);
    expect(policy.nextAttempt(created, 31, 432_000_000)).toBeNull();
  });
  it('warns once after 4 hours, never the null sender', () => {
    expect(policy.shouldWarn(0, 14_399_999, false, 'a@b.test')).toBe(false);
    expect(policy.shouldWarn(0, 14_400_000, false, 'a@b.test')).toBe(true);
    expect(policy.shouldWarn(0, 14_400_000, true, 'a@b.test')).toBe(false);
    expect(policy.shouldWarn(0, 14_400_000, false, '')).toBe(false);
  });
});

describe('DSN status codes', () => {
  it('takes the enhanced code of the reply, in the class of the action', () => {
    expect(statusOf({ address: 'a', status: 'failed', lastResponse: '550 5.1.1 nope', lastCode: 550 }, 'failed')).toBe('5.1.1');
    expect(statusOf({ address: 'a', status: 'failed', lastResponse: '450 4.2.0 busy', lastCode: 450 }, 'failed')).toBe('5.2.0');
    expect(statusOf({ address: 'a', status: 'pending', lastResponse: '450 4.2.0 busy', lastCode: 450 }, 'delayed')).toBe('4.2.0');
    expect(statusOf({ address: 'a', status: 'pending', lastResponse: 'connect ECONNREFUSED', lastCode: 0 }, 'delayed')).toBe('4.4.1');
    expect(statusOf({ address: 'a', status: 'failed', lastResponse: 'connect ECONNREFUSED', lastCode: 0 }, 'failed')).toBe('5.4.7');
  });
});

describe('password hashes', () => {
  it('are salted scrypt, verified in constant time, malformed hashes never match', async () => {
    const a = await hashPassword('correct horse');
    const b = await hashPassword('correct horse');
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse', a)).toBe(true);
    expect(await verifyPassword('correct hors', a)).toBe(false);
    expect(await verifyPassword('x', 'plaintext')).toBe(false);
  });
});

describe('Bcc removal', () => {
  it('drops folded Bcc headers and keeps the body byte-exact', () => {
    const raw = Buffer.from('From: a@b.test\r\nBcc: x@y.test,\r\n z@y.test\r\nSubject: s\r\n\r\nBcc: in body\r\n');
    expect(withoutBcc(raw).toString()).toBe('From: a@b.test\r\nSubject: s\r\n\r\nBcc: in body\r\n');
  });

  it('hands back the message itself when it has no Bcc, and a Bcc as the last header leaves one blank line', () => {
    for (const text of ['From: a@b.test\nSubject: s\n\nBcc: in body\n', 'From: a@b.test\r\n\r\nbody', 'no header end']) {
      const raw = Buffer.from(text);
      expect(withoutBcc(raw)).toBe(raw);
    }
    const bareLf = Buffer.from('From: a@b.test\nBCC: x@y.test\n\nBcc: in body\n');
    expect(withoutBcc(bareLf).toString()).toBe('From: a@b.test\n\nBcc: in body\n');
  });
});
