import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { hostileMessage } from '../../test/helpers/mime-arbitraries.js';
import { detectE2e, type E2eProtection } from './e2e.js';

const MAX = 1024 * 1024;
const none = (): E2eProtection => ({ pgp: { signed: false, encrypted: false }, smime: { signed: false, encrypted: false } });

/**
 * The reading the byte scan replaced: the first `maxBytes` as latin1, unfolded, Content-Type
 * lines and armour lines found by regular expressions. Same verdicts expected on every message
 * whose Content-Type fields are shorter than the scan's per-field bound.
 */
function byRegex(raw: Buffer, text: string, maxBytes: number): E2eProtection {
  const found = none();
  const scanned = raw.subarray(0, maxBytes).toString('latin1').replace(/\r?\n[ \t]+/g, ' ');
  for (const match of scanned.matchAll(/^content-type:[ \t]*([^\r\n]*)/gim)) {
    const ct = match[1].toLowerCase();
    const protocol = /protocol="?([^";\s]+)/.exec(ct)?.[1] ?? '';
    if (ct.startsWith('multipart/encrypted') && protocol === 'application/pgp-encrypted') found.pgp.encrypted = true;
    if (ct.startsWith('multipart/signed') && protocol === 'application/pgp-signature') found.pgp.signed = true;
    if (ct.startsWith('multipart/signed') && /^application\/(x-)?pkcs7-signature$/.test(protocol)) found.smime.signed = true;
    if (/^application\/(x-)?pkcs7-mime/.test(ct)) {
      if (/smime-type="?([a-z-]+)/.exec(ct)?.[1] === 'signed-data') found.smime.signed = true;
      else found.smime.encrypted = true;
    }
  }
  if (/^-----BEGIN PGP MESSAGE-----/m.test(text) || /^-----BEGIN PGP MESSAGE-----/m.test(scanned)) found.pgp.encrypted = true;
  if (/^-----BEGIN PGP SIGNED MESSAGE-----/m.test(text) || /^-----BEGIN PGP SIGNED MESSAGE-----/m.test(scanned)) found.pgp.signed = true;
  return found;
}

const piece = fc.constantFrom(
  'Content-Type:', 'content-type: ', 'CONTENT-TYPE:\t', 'multipart/encrypted;', 'multipart/signed;', ' protocol="application/pgp-encrypted"',
  ' protocol=application/pgp-signature', ' protocol="application/pkcs7-signature"', 'application/pkcs7-mime;', 'application/x-pkcs7-mime',
  ' smime-type=signed-data', ' smime-type="enveloped-data"', '-----BEGIN PGP MESSAGE-----', '-----BEGIN PGP SIGNED MESSAGE-----',
  '\r\n', '\n', '\r', '\r\n ', '\n\t', ' ', ';', '"', 'x',
);
const edgeMessage = fc.array(piece, { maxLength: 30 }).map((parts) => Buffer.from(parts.join(''), 'latin1'));

describe('end-to-end protection read from the raw bytes', () => {
  it('finds PGP/MIME and S/MIME in folded part headers, and armour at a line start', () => {
    const pgp = Buffer.from('Content-Type: text/plain\r\n\r\n--b\r\nContent-Type: multipart/encrypted;\r\n\tprotocol="application/pgp-encrypted"; boundary=x\r\n');
    expect(detectE2e(pgp, '', MAX)).toEqual({ ...none(), pgp: { signed: false, encrypted: true } });
    const smime = Buffer.from('Content-Type: application/pkcs7-mime;\n smime-type=signed-data; name=smime.p7m\n\nMIIB');
    expect(detectE2e(smime, '', MAX)).toEqual({ ...none(), smime: { signed: true, encrypted: false } });
    const armour = Buffer.from('Subject: x\r\n\r\nhello\r-----BEGIN PGP SIGNED MESSAGE-----\r\n');
    expect(detectE2e(armour, '', MAX)).toEqual({ ...none(), pgp: { signed: true, encrypted: false } });
    expect(detectE2e(Buffer.from('Subject: x\r\n\r\nsee -----BEGIN PGP MESSAGE-----\r\n'), '', MAX)).toEqual(none());
  });

  it('gives the verdicts the whole-text reading gave, on hostile MIME and on the edges of the patterns', () => {
    fc.assert(fc.property(edgeMessage, fc.integer({ min: 1, max: 400 }), (raw, maxBytes) => {
      expect(detectE2e(raw, '', maxBytes)).toEqual(byRegex(raw, '', maxBytes));
    }), { numRuns: 3000 });
    fc.assert(fc.property(hostileMessage(), (text) => {
      const raw = Buffer.from(text, 'latin1');
      expect(detectE2e(raw, '', MAX)).toEqual(byRegex(raw, '', MAX));
    }), { numRuns: 200 });
  });

  it('turns only the Content-Type fields into text, never the message', () => {
    const head = 'Content-Type: multipart/signed; protocol="application/pgp-signature"; boundary=b\r\n';
    const raw = Buffer.from(`${head}\r\n${'body line\r\n'.repeat(100_000)}`);
    const toString = vi.spyOn(Buffer.prototype, 'toString');
    try {
      expect(detectE2e(raw, '', MAX).pgp.signed).toBe(true);
      const longest = Math.max(0, ...toString.mock.results.map((r) => (typeof r.value === 'string' ? r.value.length : 0)));
      expect(longest).toBe(head.length - 2 - 'Content-Type:'.length);
    } finally {
      toString.mockRestore();
    }
  });
});
