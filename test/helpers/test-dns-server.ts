/**
 * A tiny authoritative DNS server for tests: answers A, AAAA, TXT and MX queries from a record
 * table over UDP and TCP on 127.0.0.1, so plugins exercise the real node:dns Resolver path
 * without any network. Names not in the table get NXDOMAIN; a known name without the asked type
 * gets an empty NOERROR answer (NODATA). Names can be made to fail (SERVFAIL) or to stay silent
 * (the client times out).
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';

/** Records of one name. TXT entries longer than 255 bytes are split into character-strings. */
export interface TestRecords {
  A?: string[];
  AAAA?: string[];
  TXT?: (string | string[])[];
  MX?: { exchange: string; priority: number }[];
  /** DANE records (RFC 6698): usage, selector, matching type, association data. */
  TLSA?: { usage: number; selector: number; mtype: number; cert: Buffer }[];
}

export interface TestDnsServer {
  /** "127.0.0.1:PORT", ready for Resolver.setServers / a plugin's dns.servers. */
  address: string;
  port: number;
  /** Lower-case name (no trailing dot) → records. Change it at will between queries. */
  records: Map<string, TestRecords>;
  /** Names answered with SERVFAIL. */
  servfail: Set<string>;
  /** Names never answered. */
  silent: Set<string>;
  /** Every question asked, as "name TYPE". */
  queries: string[];
  /** Names whose answers carry the AD (DNSSEC-authenticated) bit, as a validating resolver would set it. */
  authenticated: Set<string>;
  close(): Promise<void>;
}

const TYPES: Record<number, keyof TestRecords> = { 1: 'A', 28: 'AAAA', 16: 'TXT', 15: 'MX', 52: 'TLSA' };
const TYPE_CODES: Record<keyof TestRecords, number> = { A: 1, AAAA: 28, TXT: 16, MX: 15, TLSA: 52 };
const NOERROR = 0;
const SERVFAIL = 2;
const NXDOMAIN = 3;

interface Question {
  id: number;
  rd: boolean;
  name: string;
  qtype: number;
  /** The question section as received, echoed in the answer. */
  section: Buffer;
}

/** Starts the server on a free port; records may also be added later through `records`. */
export async function startTestDnsServer(initial: Record<string, TestRecords> = {}): Promise<TestDnsServer> {
  const records = new Map(Object.entries(initial).map(([name, r]) => [normalize(name), r]));
  const state = { records, servfail: new Set<string>(), silent: new Set<string>(), queries: [] as string[], authenticated: new Set<string>() };
  const { udp, tcp, port } = await bindPair(state);
  return {
    address: `127.0.0.1:${port}`,
    port,
    ...state,
    close: () => closeBoth(udp, tcp),
  };
}

/**
 * UDP and TCP on one port number: the UDP port is picked free, but the same TCP port can be taken
 * by someone else's connection, so a clash is retried with another port.
 */
async function bindPair(state: ServerState): Promise<{ udp: UdpSocket; tcp: Server; port: number }> {
  for (let attempt = 0; ; attempt++) {
    const udp = createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    const port = udp.address().port;
    const tcp = createServer((socket) => serveTcp(socket, state));
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(port, '127.0.0.1', resolve);
      });
    } catch (err) {
      udp.close();
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 20) throw err;
      continue;
    }
    udp.on('message', (msg: Buffer, from: RemoteInfo) => {
      const reply = answer(msg, state, 512);
      if (reply) udp.send(reply, from.port, from.address);
    });
    return { udp, tcp, port };
  }
}

function closeBoth(udp: UdpSocket, tcp: Server): Promise<void> {
  udp.close();
  return new Promise((resolve) => tcp.close(() => resolve()));
}

/** DNS over TCP: each message has a two-byte length in front. */
function serveTcp(socket: Socket, state: ServerState): void {
  let buffer = Buffer.alloc(0);
  socket.on('error', () => undefined);
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    while (buffer.length >= 2 && buffer.length >= 2 + buffer.readUInt16BE(0)) {
      const msg = buffer.subarray(2, 2 + buffer.readUInt16BE(0));
      buffer = buffer.subarray(2 + msg.length);
      const reply = answer(msg, state, 65_535);
      if (reply) socket.write(Buffer.concat([u16(reply.length), reply]));
    }
  });
}

interface ServerState {
  records: Map<string, TestRecords>;
  servfail: Set<string>;
  silent: Set<string>;
  queries: string[];
  authenticated: Set<string>;
}

/** Builds the response to one query, or null to stay silent. Over `limit` bytes → truncated (TC). */
function answer(msg: Buffer, state: ServerState, limit: number): Buffer | null {
  const q = parseQuestion(msg);
  if (!q) return null;
  const type = TYPES[q.qtype];
  state.queries.push(`${q.name} ${type ?? q.qtype}`);
  if (state.silent.has(q.name)) return null;
  if (state.servfail.has(q.name)) return header(q, SERVFAIL, 0, false);
  const entry = state.records.get(q.name);
  if (!entry) return header(q, NXDOMAIN, 0, false);
  const rdatas = type ? rdataFor(type, entry) : [];
  const answers = rdatas.map((rdata) =>
    Buffer.concat([u16(0xc00c), u16(q.qtype), u16(1), u32(60), u16(rdata.length), rdata]),
  );
  const head = header(q, NOERROR, answers.length, false);
  if (state.authenticated.has(q.name)) head.writeUInt16BE(head.readUInt16BE(2) | 0x0020, 2);
  const full = Buffer.concat([head, q.section, ...answers]);
  if (full.length <= limit) return full;
  return Buffer.concat([header(q, NOERROR, 0, true), q.section]);
}

function header(q: Question, rcode: number, ancount: number, truncated: boolean): Buffer {
  const flags = 0x8000 | 0x0400 | (truncated ? 0x0200 : 0) | (q.rd ? 0x0100 : 0) | 0x0080 | rcode;
  const out = Buffer.concat([u16(q.id), u16(flags), u16(1), u16(ancount), u16(0), u16(0)]);
  return rcode === NOERROR ? out : Buffer.concat([out, q.section]);
}

function parseQuestion(msg: Buffer): Question | null {
  if (msg.length < 17) return null;
  const labels: string[] = [];
  let offset = 12;
  while (offset < msg.length && msg[offset] !== 0) {
    const len = msg[offset];
    labels.push(msg.subarray(offset + 1, offset + 1 + len).toString('latin1'));
    offset += 1 + len;
  }
  offset += 1;
  if (offset + 4 > msg.length) return null;
  return {
    id: msg.readUInt16BE(0),
    rd: (msg.readUInt16BE(2) & 0x0100) !== 0,
    name: normalize(labels.join('.')),
    qtype: msg.readUInt16BE(offset),
    section: msg.subarray(12, offset + 4),
  };
}

function rdataFor(type: keyof TestRecords, entry: TestRecords): Buffer[] {
  switch (type) {
    case 'A':
      return (entry.A ?? []).map((ip) => Buffer.from(ip.split('.').map(Number)));
    case 'AAAA':
      return (entry.AAAA ?? []).map(ipv6Bytes);
    case 'TXT':
      return (entry.TXT ?? []).map(txtBytes);
    case 'MX':
      return (entry.MX ?? []).map((mx) => Buffer.concat([u16(mx.priority), nameBytes(mx.exchange)]));
    case 'TLSA':
      return (entry.TLSA ?? []).map((t) => Buffer.concat([Buffer.from([t.usage, t.selector, t.mtype]), t.cert]));
  }
}

function txtBytes(value: string | string[]): Buffer {
  const parts = Array.isArray(value) ? value : (value.match(/[\s\S]{1,255}/g) ?? ['']);
  return Buffer.concat(parts.map((p) => Buffer.concat([Buffer.from([Buffer.byteLength(p)]), Buffer.from(p)])));
}

function nameBytes(name: string): Buffer {
  const labels = normalize(name).split('.').filter(Boolean);
  return Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
}

function ipv6Bytes(ip: string): Buffer {
  const [head, tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return Buffer.concat(groups.map((g) => u16(parseInt(g, 16))));
}

const normalize = (name: string): string => name.toLowerCase().replace(/\.$/, '');

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** Record-table resolver for mailauth's `resolver` option (no sockets), with the same semantics. */
export function tableResolver(records: Record<string, TestRecords>): (name: string, rrtype: string) => Promise<any> {
  const table = new Map(Object.entries(records).map(([n, r]) => [normalize(n), r]));
  return async (name, rrtype) => {
    const entry = table.get(normalize(name));
    if (!entry) throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    const type = rrtype as keyof TestRecords;
    const values = type in TYPE_CODES ? entry[type] : undefined;
    if (!values || values.length === 0) throw Object.assign(new Error(`ENODATA ${name}`), { code: 'ENODATA' });
    if (type === 'TXT') return (values as (string | string[])[]).map((v) => (Array.isArray(v) ? v : (v.match(/[\s\S]{1,255}/g) ?? [''])));
    return values;
  };
}
