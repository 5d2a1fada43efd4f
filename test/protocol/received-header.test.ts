import { describe, expect, it } from 'vitest';
import type { SessionInfo } from '../../src/pipeline/types.js';
import { receivedHeader } from '../../src/mail/received-header.js';
import { tlsClause, tlsDetails } from '../../src/mail/tls-details.js';

const session: SessionInfo = {
  id: 's1',
  listener: 'smtp',
  clientAddress: '192.0.2.7',
  clientPort: 40000,
  peerAddress: '192.0.2.7',
  proxied: false,
  heloName: 'mail.remote.test',
  secure: false,
};
const when = new Date('2026-05-04T10:00:00Z');

describe('TLS details in the Received header', () => {
  it.each([
    [{ name: 'TLS_AES_256_GCM_SHA384', version: 'TLSv1.3' }, '(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))'],
    [{ name: 'TLS_CHACHA20_POLY1305_SHA256', version: 'TLSv1.3' }, '(using TLSv1.3 with cipher TLS_CHACHA20_POLY1305_SHA256 (256/256 bits))'],
    [{ name: 'ECDHE-RSA-AES128-GCM-SHA256', version: 'TLSv1.2' }, '(using TLSv1.2 with cipher ECDHE-RSA-AES128-GCM-SHA256 (128/128 bits))'],
    // A suite older than TLS 1.2 is still negotiated at 1.2: Node accepts nothing older.
    [{ name: 'ECDHE-RSA-AES256-SHA', version: 'TLSv1/SSLv3' }, '(using TLSv1.2 with cipher ECDHE-RSA-AES256-SHA (256/256 bits))'],
    [{ name: 'DES-CBC3-SHA', version: 'TLSv1/SSLv3' }, '(using TLSv1.2 with cipher DES-CBC3-SHA (112/168 bits))'],
  ])('writes %j as Postfix does', (cipher, clause) => {
    expect(tlsClause(tlsDetails(cipher)!)).toBe(clause);
  });

  it('has no TLS details before STARTTLS', () => {
    expect(tlsDetails(false)).toBeUndefined();
    expect(tlsDetails(undefined)).toBeUndefined();
  });

  it('puts the clause between the from and by lines, and none without TLS', () => {
    const tls = tlsDetails({ name: 'TLS_AES_256_GCM_SHA384', version: 'TLSv1.3' });
    expect(receivedHeader({ ...session, secure: true, tls }, 'mx.example.org', 's1.1', ['alice@example.org'], when)).toBe(
      'Received: from mail.remote.test ([192.0.2.7])\r\n' +
        '\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\r\n' +
        '\tby mx.example.org (Hermod) with ESMTPS id s1.1\r\n' +
        '\tfor <alice@example.org>;\r\n' +
        '\tMon, 04 May 2026 10:00:00 +0000',
    );
    expect(receivedHeader(session, 'mx.example.org', 's1.1', ['a@example.org', 'b@example.org'], when)).toBe(
      'Received: from mail.remote.test ([192.0.2.7])\r\n\tby mx.example.org (Hermod) with ESMTP id s1.1;\r\n\tMon, 04 May 2026 10:00:00 +0000',
    );
  });
});
