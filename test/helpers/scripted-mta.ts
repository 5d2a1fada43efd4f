/**
 * A receiving MTA for outbound tests: a real smtp-server on 127.0.0.1 (port 0) that answers
 * RCPT from a script per recipient (e.g. `['450 4.2.0 busy', '250']`: busy on the first
 * attempt, accepted on the next; the last entry repeats), offers STARTTLS with a given
 * certificate, and records every transaction it accepted.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMessage {
  from: string;
  to: string[];
  raw: Buffer;
  secure: boolean;
  heloName: string;
}

export interface ScriptedMta {
  port: number;
  /** Accepted transactions, in order. */
  messages: ReceivedMessage[];
  /** Every RCPT seen, as "address -> code". */
  rcptLog: string[];
  /** Replies by recipient address (lower case); change between attempts at will. */
  script: Map<string, string[]>;
  /** Most SMTP sessions open at the same time so far. */
  maxConcurrent(): number;
  stop(): Promise<void>;
}

export interface ScriptedMtaOptions {
  script?: Record<string, string[]>;
  tls?: { key: string; cert: string };
  /** Reply to every EHLO/MAIL with 421 (a server that is "down"). */
  refuseAll?: boolean;
}

function scriptedError(line: string): Error & { responseCode: number } {
  const code = Number(line.slice(0, 3));
  const err = new Error(line.slice(4) || 'scripted') as Error & { responseCode: number };
  err.responseCode = code;
  return err;
}

export async function startScriptedMta(options: ScriptedMtaOptions = {}): Promise<ScriptedMta> {
  const messages: ReceivedMessage[] = [];
  const rcptLog: string[] = [];
  const script = new Map(Object.entries(options.script ?? {}).map(([k, v]) => [k.toLowerCase(), [...v]]));
  let open = 0;
  let peak = 0;
  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: options.tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    ...(options.tls ?? {}),
    onConnect(_session, cb) {
      open += 1;
      peak = Math.max(peak, open);
      cb();
    },
    onClose() {
      open -= 1;
    },
    onMailFrom(_address, _session, cb) {
      cb(options.refuseAll ? scriptedError('421 4.3.2 Service not available') : null);
    },
    onRcptTo(address, _session, cb) {
      const key = address.address.toLowerCase();
      const list = script.get(key);
      const line = list && list.length > 0 ? (list.length > 1 ? list.shift()! : list[0]) : '250';
      rcptLog.push(`${key} -> ${line.slice(0, 3)}`);
      cb(line.startsWith('2') ? null : scriptedError(line));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks),
          secure: session.secure,
          heloName: session.hostNameAppearsAs,
        });
        cb(null);
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    messages,
    rcptLog,
    script,
    maxConcurrent: () => peak,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
