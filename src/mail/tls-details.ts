/** The TLS of a session, as the Received header and the transaction log line state it. */
export interface TlsDetails {
  /** Negotiated protocol, e.g. `TLSv1.3`. */
  protocol: string;
  /** OpenSSL cipher name, e.g. `TLS_AES_256_GCM_SHA384` or `ECDHE-RSA-AES256-GCM-SHA384`. */
  cipher: string;
  /** Secret key bits used / of the algorithm, as Postfix prints them (`256/256`); 0 when unknown. */
  bits: number;
  algorithmBits: number;
}

/** What smtp-server keeps of the TLS socket: `getCipher()` (false before STARTTLS). */
type CipherInfo = { name?: string; version?: string } | false | null | undefined;

/**
 * The TLS details of a session from the cipher smtp-server records, or undefined without TLS.
 *
 * The cipher's `version` is the oldest protocol the suite works with, not the negotiated one:
 * TLS 1.3 suites say TLSv1.3 and are only used with it; every other suite is negotiated at
 * TLS 1.2 here, because Node's minimum protocol (and so Hermod's) is TLS 1.2.
 */
export function tlsDetails(cipher: CipherInfo): TlsDetails | undefined {
  if (!cipher || !cipher.name) return undefined;
  const protocol = cipher.version === 'TLSv1.3' ? 'TLSv1.3' : 'TLSv1.2';
  const [bits, algorithmBits] = cipherBits(cipher.name);
  return { protocol, cipher: cipher.name, bits, algorithmBits };
}

/** Key bits of the bulk cipher, read from its name: AES-256 and ChaCha20 are 256, 3DES 112 of 168. */
function cipherBits(name: string): [number, number] {
  const upper = name.toUpperCase();
  if (/CHACHA20/.test(upper)) return [256, 256];
  const aes = /AES[_-]?(128|256)/.exec(upper);
  if (aes) return [Number(aes[1]), Number(aes[1])];
  if (/CAMELLIA[_-]?256/.test(upper)) return [256, 256];
  if (/CAMELLIA[_-]?128/.test(upper)) return [128, 128];
  if (/DES-CBC3|3DES/.test(upper)) return [112, 168];
  return [0, 0];
}

/**
 * The TLS clause of a Received header, as Postfix writes it:
 * `(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))`.
 */
export function tlsClause(tls: TlsDetails): string {
  const bits = tls.algorithmBits > 0 ? ` (${tls.bits}/${tls.algorithmBits} bits)` : '';
  return `(using ${tls.protocol} with cipher ${tls.cipher}${bits})`;
}
