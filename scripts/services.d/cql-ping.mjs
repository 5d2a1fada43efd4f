// A dependency-free CQL readiness check used by scripts/services.
//   node cql-ping.mjs [HOST] [PORT] [TIMEOUT_MS]
// Speaks the native protocol v4: STARTUP, then QUERY "SELECT release_version FROM system.local".
// Prints the server's release_version and exits 0 on success; prints the reason and exits 1
// otherwise (connection refused, protocol error, timeout).
import net from 'node:net';

const [host = '127.0.0.1', portArg = '9042', timeoutArg = '5000'] = process.argv.slice(2);
const port = Number(portArg);
const timeoutMs = Number(timeoutArg);

const OP = { ERROR: 0x00, STARTUP: 0x01, READY: 0x02, AUTHENTICATE: 0x03, QUERY: 0x07, RESULT: 0x08 };

function u16(n) {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}
function str(s) {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([u16(b.length), b]);
}
function longStr(s) {
  const b = Buffer.from(s, 'utf8');
  const h = Buffer.alloc(4);
  h.writeInt32BE(b.length);
  return Buffer.concat([h, b]);
}
function frame(stream, opcode, body) {
  const h = Buffer.alloc(9);
  h[0] = 0x04; // protocol v4, request
  h[1] = 0x00; // no flags
  h.writeInt16BE(stream, 2);
  h[4] = opcode;
  h.writeInt32BE(body.length, 5);
  return Buffer.concat([h, body]);
}

class Reader {
  constructor(buf) {
    this.buf = buf;
    this.pos = 0;
  }
  int() {
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  short() {
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  string() {
    const n = this.short();
    const v = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  bytes() {
    const n = this.int();
    if (n < 0) return null;
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  option() {
    const id = this.short();
    if (id === 0x0000) this.string(); // custom type: class name
    else if (id === 0x0020 || id === 0x0022) this.option(); // list, set
    else if (id === 0x0021) {
      this.option(); // map key
      this.option(); // map value
    } else if (id === 0x0030) {
      this.string(); // UDT keyspace
      this.string(); // UDT name
      const n = this.short();
      for (let i = 0; i < n; i++) {
        this.string();
        this.option();
      }
    } else if (id === 0x0031) {
      const n = this.short();
      for (let i = 0; i < n; i++) this.option();
    }
    return id;
  }
}

function fail(message) {
  process.stderr.write(`cql-ping: ${message}\n`);
  process.exit(1);
}

const timer = setTimeout(() => fail(`no answer from ${host}:${port} within ${timeoutMs} ms`), timeoutMs);
const socket = net.connect({ host, port });
let pending = Buffer.alloc(0);

socket.on('error', (err) => fail(`${host}:${port}: ${err.message}`));
socket.on('connect', () => {
  socket.write(frame(0, OP.STARTUP, Buffer.concat([u16(1), str('CQL_VERSION'), str('3.0.0')])));
});
socket.on('data', (chunk) => {
  pending = Buffer.concat([pending, chunk]);
  while (pending.length >= 9) {
    const length = pending.readInt32BE(5);
    if (pending.length < 9 + length) return;
    const opcode = pending[4];
    const body = pending.subarray(9, 9 + length);
    pending = pending.subarray(9 + length);
    handle(opcode, body);
  }
});

function handle(opcode, body) {
  const r = new Reader(body);
  if (opcode === OP.ERROR) {
    const code = r.int();
    fail(`server error 0x${code.toString(16)}: ${r.string()}`);
  } else if (opcode === OP.AUTHENTICATE) {
    fail(`server requires authentication (${r.string()})`);
  } else if (opcode === OP.READY) {
    const query = Buffer.concat([longStr('SELECT release_version FROM system.local'), u16(0x0001), Buffer.from([0])]);
    socket.write(frame(1, OP.QUERY, query));
  } else if (opcode === OP.RESULT) {
    const kind = r.int();
    if (kind !== 0x0002) fail(`unexpected result kind ${kind}`);
    const flags = r.int();
    const columns = r.int();
    if (flags & 0x0002) r.bytes(); // paging state
    const globalSpec = (flags & 0x0001) !== 0;
    if (globalSpec) {
      r.string();
      r.string();
    }
    if (!(flags & 0x0004)) {
      for (let i = 0; i < columns; i++) {
        if (!globalSpec) {
          r.string();
          r.string();
        }
        r.string();
        r.option();
      }
    }
    const rows = r.int();
    if (rows < 1) fail('system.local returned no row');
    const version = r.bytes();
    process.stdout.write(`${version ? version.toString('utf8') : 'unknown'}\n`);
    clearTimeout(timer);
    socket.end();
    process.exit(0);
  } else {
    fail(`unexpected opcode 0x${opcode.toString(16)}`);
  }
}
