import type { Socket } from 'node:net';
import {
  Command,
  IPv4ProxyAddress,
  IPv6ProxyAddress,
  V1ProxyProtocol,
  V2ProxyProtocol,
} from 'proxy-protocol-js';
import ipaddr from 'ipaddr.js';
import { HermodError } from '../errors.js';

/** The client a PROXY header speaks for; `null` address for LOCAL (health checks) and UNKNOWN. */
export interface ProxyInfo {
  version: 1 | 2;
  sourceAddress: string | null;
  sourcePort: number;
  /** v2 TLVs as raw bytes (type-length-value), kept for later use (e.g. SSL info). */
  tlvBytes: number;
}

export class ProxyHeaderError extends HermodError {
  constructor(message: string) {
    super('HERMOD_PROXY_HEADER', message);
  }
}

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ');
/** v1 header is at most 107 bytes with its CRLF (the PROXY protocol spec). */
const V1_MAX = 107;
/** v2 length field is 16 bits; we accept up to this much of addresses + TLVs. */
const V2_MAX_PAYLOAD = 4096;

/** True when the bytes begin like a PROXY header (either version), even partially. */
export function looksLikeProxyHeader(chunk: Buffer): boolean {
  const n = Math.min(chunk.length, V2_SIGNATURE.length);
  if (n > 0 && chunk.subarray(0, n).equals(V2_SIGNATURE.subarray(0, n))) return true;
  const m = Math.min(chunk.length, V1_PREFIX.length);
  return m >= 5 && chunk.subarray(0, m).equals(V1_PREFIX.subarray(0, m));
}

/**
 * Reads one PROXY header from the start of the socket. Only the framing (where the header
 * ends) is done here; the decoding is proxy-protocol-js's. Bytes after the header are put
 * back into the socket. Resolves null when nothing arrived within `timeoutMs` (no header).
 */
export function readProxyHeader(socket: Socket, timeoutMs: number): Promise<ProxyInfo | null> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const finish = (err: Error | null, info: ProxyInfo | null, rest?: Buffer) => {
      clearTimeout(timer);
      socket.off('readable', onReadable);
      socket.off('end', onEnd);
      socket.off('error', onError);
      if (rest && rest.length) socket.unshift(rest);
      if (err) reject(err);
      else resolve(info);
    };
    const onReadable = () => {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) buffered = Buffer.concat([buffered, chunk]);
      try {
        const framed = frameHeader(buffered);
        if (framed) finish(null, decode(framed.header), framed.rest);
      } catch (err) {
        finish(err as Error, null);
      }
    };
    const onEnd = () => finish(new ProxyHeaderError('connection closed before the PROXY header was complete'), null);
    const onError = (err: Error) => finish(err, null);
    const timer = setTimeout(() => {
      if (buffered.length === 0) finish(null, null);
      else finish(new ProxyHeaderError('incomplete PROXY header (timed out)'), null);
    }, timeoutMs);
    socket.on('readable', onReadable);
    socket.on('end', onEnd);
    socket.on('error', onError);
  });
}

/** Finds where the header ends; null when more bytes are needed. Throws on non-PROXY input. */
function frameHeader(buf: Buffer): { header: Buffer; rest: Buffer } | null {
  if (!looksLikeProxyHeader(buf)) throw new ProxyHeaderError('expected a PROXY header, got other data');
  if (buf[0] === V2_SIGNATURE[0]) {
    if (buf.length < 16) return null;
    const length = buf.readUInt16BE(14);
    if (length > V2_MAX_PAYLOAD) throw new ProxyHeaderError(`PROXY v2 header too long (${length} bytes)`);
    if (buf.length < 16 + length) return null;
    return { header: buf.subarray(0, 16 + length), rest: buf.subarray(16 + length) };
  }
  const end = buf.indexOf('\r\n');
  if (end === -1) {
    if (buf.length >= V1_MAX) throw new ProxyHeaderError('PROXY v1 header line too long');
    return null;
  }
  if (end + 2 > V1_MAX) throw new ProxyHeaderError('PROXY v1 header line too long');
  return { header: buf.subarray(0, end + 2), rest: buf.subarray(end + 2) };
}

function decode(header: Buffer): ProxyInfo {
  try {
    if (header[0] === V2_SIGNATURE[0]) return decodeV2(header);
    const text = header.toString('latin1');
    if (text.startsWith('PROXY UNKNOWN')) return { version: 1, sourceAddress: null, sourcePort: 0, tlvBytes: 0 };
    const v1 = V1ProxyProtocol.parse(text);
    const family = String(v1.inetProtocol);
    for (const [side, peer] of [['source', v1.source], ['destination', v1.destination]] as const) {
      if (canonicalV1Address(peer.ipAddress, family) === null || peer.port > 65535) {
        throw new ProxyHeaderError(`malformed PROXY v1 header: bad ${side} ${peer.ipAddress}:${peer.port} for ${family}`);
      }
    }
    return { version: 1, sourceAddress: canonicalV1Address(v1.source.ipAddress, family), sourcePort: v1.source.port, tlvBytes: 0 };
  } catch (err) {
    if (err instanceof ProxyHeaderError) throw err;
    throw new ProxyHeaderError(`malformed PROXY header: ${(err as { message?: string }).message ?? String(err)}`);
  }
}

function decodeV2(header: Buffer): ProxyInfo {
  const v2 = V2ProxyProtocol.parse(new Uint8Array(header));
  const tlvBytes = v2.data?.length ?? 0;
  if (v2.command === Command.LOCAL) return { version: 2, sourceAddress: null, sourcePort: 0, tlvBytes };
  const addr = v2.proxyAddress;
  if (addr instanceof IPv4ProxyAddress) {
    return { version: 2, sourceAddress: addr.sourceAddress.address.join('.'), sourcePort: addr.sourcePort, tlvBytes };
  }
  if (addr instanceof IPv6ProxyAddress) {
    return { version: 2, sourceAddress: ipv6ToString(addr.sourceAddress.address), sourcePort: addr.sourcePort, tlvBytes };
  }
  // UNIX or UNSPEC with PROXY command: no IP to speak of, treat like LOCAL.
  return { version: 2, sourceAddress: null, sourcePort: 0, tlvBytes };
}

/**
 * The address in the form the rest of Hermod compares and records, or null when it is not what
 * the spec allows for the family. The library only matches the line's shape, and ipaddr.js's
 * general parser also takes octal, hex and short IPv4 forms ("0x7f.1" is 127.0.0.1) and IPv6 zone
 * ids: such text would be recorded as the client while trust checks read another address.
 */
function canonicalV1Address(text: string, family: string): string | null {
  if (family === 'TCP4') return ipaddr.IPv4.isValidFourPartDecimal(text) ? ipaddr.IPv4.parse(text).toString() : null;
  if (family === 'TCP6' && !text.includes('%') && ipaddr.IPv6.isValid(text)) return ipv6ToString(ipaddr.IPv6.parse(text).toByteArray());
  return null;
}

/** Compressed text form (RFC 5952); an IPv4-mapped address becomes its IPv4 form. */
function ipv6ToString(bytes: readonly number[]): string {
  const addr = ipaddr.fromByteArray([...bytes]) as ipaddr.IPv6;
  return addr.isIPv4MappedAddress() ? addr.toIPv4Address().toString() : addr.toString();
}
