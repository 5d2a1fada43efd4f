import { fieldsNamed, unfoldedValueAt } from '../../src/plugin-api.js';

/** End-to-end protection found in a message; `signed` and `encrypted` may both hold. */
export interface E2eProtection {
  pgp: { signed: boolean; encrypted: boolean };
  smime: { signed: boolean; encrypted: boolean };
}

/**
 * Most bytes of one Content-Type field read (its continuation lines included): the type and the
 * protocol or smime-type parameters come well within it.
 */
const MAX_CONTENT_TYPE = 8 * 1024;
const PGP_MESSAGE = Buffer.from('-----BEGIN PGP MESSAGE-----', 'latin1');
const PGP_SIGNED = Buffer.from('-----BEGIN PGP SIGNED MESSAGE-----', 'latin1');

function mark(found: E2eProtection, contentType: string): void {
  const ct = contentType.toLowerCase();
  const protocol = /protocol="?([^";\s]+)/.exec(ct)?.[1] ?? '';
  if (ct.startsWith('multipart/encrypted') && protocol === 'application/pgp-encrypted') found.pgp.encrypted = true;
  if (ct.startsWith('multipart/signed') && protocol === 'application/pgp-signature') found.pgp.signed = true;
  if (ct.startsWith('multipart/signed') && /^application\/(x-)?pkcs7-signature$/.test(protocol)) found.smime.signed = true;
  if (/^application\/(x-)?pkcs7-mime/.test(ct)) {
    const type = /smime-type="?([a-z-]+)/.exec(ct)?.[1];
    if (type === 'signed-data') found.smime.signed = true;
    else found.smime.encrypted = true; // enveloped-data, authenveloped-data, or unnamed (.p7m)
  }
}

/**
 * Whether `line` starts a line of `bytes` somewhere: at the first byte, or after a CR or LF. Armour
 * lines are never folded, so one broken by a line break and blanks is not taken for armour.
 */
function startsALine(bytes: Buffer, line: Buffer): boolean {
  for (let at = bytes.indexOf(line); at >= 0; at = bytes.indexOf(line, at + 1)) {
    if (at === 0 || bytes[at - 1] === 0x0a || bytes[at - 1] === 0x0d) return true;
  }
  return false;
}

/**
 * Looks for PGP/MIME (RFC 3156), S/MIME (RFC 8551) and inline PGP armour. Read from the raw
 * bytes because mailparser hides the MIME structure of signed and encrypted parts: the first
 * `maxBytes` are searched where they lie, and only each Content-Type field becomes text.
 */
export function detectE2e(raw: Buffer, text: string, maxBytes: number): E2eProtection {
  const found: E2eProtection = { pgp: { signed: false, encrypted: false }, smime: { signed: false, encrypted: false } };
  const scanned = raw.subarray(0, maxBytes);
  for (const [, at] of fieldsNamed(scanned, 'content-type')) mark(found, unfoldedValueAt(scanned, at, MAX_CONTENT_TYPE));
  if (/^-----BEGIN PGP MESSAGE-----/m.test(text) || startsALine(scanned, PGP_MESSAGE)) found.pgp.encrypted = true;
  if (/^-----BEGIN PGP SIGNED MESSAGE-----/m.test(text) || startsALine(scanned, PGP_SIGNED)) found.pgp.signed = true;
  return found;
}
