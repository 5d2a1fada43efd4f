import { createSocket } from 'node:dgram';
import { getServers } from 'node:dns';
import { randomBytes } from 'node:crypto';

/** A TLSA record (RFC 6698) in the shape mx-connect's DANE code reads. */
export interface TlsaRecord {
  usage: number;
  selector: number;
  mtype: number;
  cert: Buffer;
  ttl: number;
}

const TLSA = 52;

/**
 * TLSA lookups over UDP, which node:dns on Node 20 cannot do. Only answers the resolver marks
 * DNSSEC-authenticated (AD bit) count: RFC 7672 treats TLSA records from an unsigned zone as
 * absent, so without a validating resolver DANE is simply not applied (never a false "secure").
 * A missing name or type rejects with ENOTFOUND / ENODATA, as mx-connect expects.
 */
export function createTlsaResolver(servers: string[], timeoutMs = 5000): (name: string) => Promise<TlsaRecord[]> {
  return async (name) => {
    const list = servers.length > 0 ? servers : getServers();
    let lastError: unknown = new Error('no DNS server');
    for (const server of list) {
      try {
        return await queryOnce(server, name, timeoutMs);
      } catch (err) {
        if (isNoRecords(err)) throw err;
        lastError = err;
      }
    }
    throw lastError;
  };
}

function isNoRecords(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'ENOTFOUND' || code === 'ENODATA';
}

/** "1.2.3.4", "1.2.3.4:53", "[::1]:53" → host and port. */
function parseServer(server: string): { host: string; port: number } {
  const v6 = /^\[(.+)\](?::(\d+))?$/.exec(server);
  if (v6) return { host: v6[1], port: Number(v6[2] ?? 53) };
  const parts = server.split(':');
  return parts.length === 2 ? { host: parts[0], port: Number(parts[1]) } : { host: server, port: 53 };
}

function queryOnce(server: string, name: string, timeoutMs: number): Promise<TlsaRecord[]> {
  const { host, port } = parseServer(server);
  const id = randomBytes(2).readUInt16BE(0);
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  return new Promise<TlsaRecord[]>((resolve, reject) => {
    const timer = setTimeout(() => finish(Object.assign(new Error(`TLSA ${name}: timeout`), { code: 'ETIMEOUT' })), timeoutMs);
    const finish = (err: Error | null, records?: TlsaRecord[]) => {
      clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolve(records ?? []);
    };
    socket.on('error', (err) => finish(err));
    socket.on('message', (msg: Buffer) => {
      if (msg.length < 12 || msg.readUInt16BE(0) !== id) return;
      try {
        finish(null, parseResponse(msg, name));
      } catch (err) {
        finish(err as Error);
      }
    });
    socket.send(buildQuery(id, name), port, host);
  });
}

/** A query with RD and AD set (RFC 6840 §5.7: AD in the query asks for the AD bit back). */
function buildQuery(id: number, name: string): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0120, 2);
  header.writeUInt16BE(1, 4);
  const labels = name.replace(/\.$/, '').split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(TLSA, 0);
  tail.writeUInt16BE(1, 2);
  return Buffer.concat([header, ...labels, Buffer.from([0]), tail]);
}

function parseResponse(msg: Buffer, name: string): TlsaRecord[] {
  const flags = msg.readUInt16BE(2);
  const rcode = flags & 0x0f;
  if (rcode === 3) throw Object.assign(new Error(`TLSA ${name}: no such name`), { code: 'ENOTFOUND' });
  if (rcode !== 0) throw Object.assign(new Error(`TLSA ${name}: rcode ${rcode}`), { code: 'ESERVFAIL' });
  const authenticated = (flags & 0x0020) !== 0;
  const qd = msg.readUInt16BE(4);
  const an = msg.readUInt16BE(6);
  let offset = 12;
  for (let i = 0; i < qd; i++) offset = skipName(msg, offset) + 4;
  const records: TlsaRecord[] = [];
  for (let i = 0; i < an; i++) {
    offset = skipName(msg, offset);
    const type = msg.readUInt16BE(offset);
    const ttl = msg.readUInt32BE(offset + 4);
    const length = msg.readUInt16BE(offset + 8);
    const data = msg.subarray(offset + 10, offset + 10 + length);
    offset += 10 + length;
    if (type === TLSA && data.length >= 3) {
      records.push({ usage: data[0], selector: data[1], mtype: data[2], cert: Buffer.from(data.subarray(3)), ttl });
    }
  }
  if (records.length === 0 || !authenticated) {
    throw Object.assign(new Error(`TLSA ${name}: no ${authenticated ? '' : 'authenticated '}records`), { code: 'ENODATA' });
  }
  return records;
}

function skipName(msg: Buffer, offset: number): number {
  while (offset < msg.length) {
    const len = msg[offset];
    if (len === 0) return offset + 1;
    if ((len & 0xc0) === 0xc0) return offset + 2;
    offset += len + 1;
  }
  throw new Error('malformed DNS answer');
}
