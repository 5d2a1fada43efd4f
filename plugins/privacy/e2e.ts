/** End-to-end protection found in a message; `signed` and `encrypted` may both hold. */
export interface E2eProtection {
  pgp: { signed: boolean; encrypted: boolean };
  smime: { signed: boolean; encrypted: boolean };
}

// Content-Type header lines anywhere in the MIME tree (unfolded), with their parameters.
const CONTENT_TYPE = /^content-type:[ \t]*([^\r\n]*)/gim;

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
 * Looks for PGP/MIME (RFC 3156), S/MIME (RFC 8551) and inline PGP armour. Read from the raw
 * bytes because mailparser hides the MIME structure of signed and encrypted parts.
 */
export function detectE2e(raw: Buffer, text: string, maxBytes: number): E2eProtection {
  const found: E2eProtection = { pgp: { signed: false, encrypted: false }, smime: { signed: false, encrypted: false } };
  const scanned = raw.subarray(0, maxBytes).toString('latin1').replace(/\r?\n[ \t]+/g, ' ');
  for (const match of scanned.matchAll(CONTENT_TYPE)) mark(found, match[1]);
  if (/^-----BEGIN PGP MESSAGE-----/m.test(text) || /^-----BEGIN PGP MESSAGE-----/m.test(scanned)) found.pgp.encrypted = true;
  if (/^-----BEGIN PGP SIGNED MESSAGE-----/m.test(text) || /^-----BEGIN PGP SIGNED MESSAGE-----/m.test(scanned)) found.pgp.signed = true;
  return found;
}
