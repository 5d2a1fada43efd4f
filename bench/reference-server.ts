/**
 * The bare durable reference `npm run bench` measures Hermod against: smtp-server in LMTP mode,
 * mailparser's simpleParser on the whole message, and one file per message, fsync'd before the
 * 250. No plugins, no index, no dedupe: what the same libraries cost when they only keep mail.
 *
 * Run as a child process: node --import tsx bench/reference-server.ts <port> <dir>
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

const [port, dir] = [Number(process.argv[2]), process.argv[3]];
let sequence = 0;

/** Writes one message to its own new file and fsyncs it; resolves once the bytes are durable. */
async function keep(raw: Buffer): Promise<void> {
  const file = await open(join(dir, `${process.pid}-${++sequence}.eml`), 'wx');
  try {
    await file.writeFile(raw);
    await file.sync();
  } finally {
    await file.close();
  }
}

const server = new SMTPServer({
  lmtp: true,
  authOptional: true,
  disabledCommands: ['AUTH', 'STARTTLS'],
  logger: false,
  onData(stream, _session, callback) {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      const raw = Buffer.concat(chunks);
      simpleParser(raw)
        .then(() => keep(raw))
        .then(
          // smtp-server repeats this 250 once per recipient in LMTP mode.
          () => callback(null, '2.0.0 Ok: stored'),
          (err: Error) => callback(Object.assign(new Error(`4.3.0 ${err.message}`), { responseCode: 451 })),
        );
    });
  },
});
server.on('error', (err) => console.error(`reference: ${err.message}`));
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
