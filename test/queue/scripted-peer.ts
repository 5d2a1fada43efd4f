/**
 * A receiving SMTP peer scripted reply by reply, for the failure classes smtp-server cannot
 * produce (a 5xx greeting or EHLO, a refused STARTTLS or AUTH) and for timing faults (a peer
 * that stalls after the message body). Plain TCP on 127.0.0.1, port 0; understands pipelined
 * commands; records every command line and every message whose body it read in full.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';

export interface PeerScript {
  /** @defaultValue '220 peer.test ESMTP' */
  greeting?: string;
  /** A reply to EHLO instead of the capability list, e.g. '554 5.7.1 go away'. */
  ehlo?: string;
  /** Offer DSN in the EHLO reply. */
  dsn?: boolean;
  /** Offer STARTTLS and answer it with this line (never a real handshake). */
  starttls?: string;
  /** Offer AUTH PLAIN LOGIN and answer AUTH with this line. */
  auth?: string;
  /** Reply to MAIL FROM. @defaultValue '250 2.1.0 Ok' */
  mail?: string;
  /** Replies to RCPT TO by address (lower case); others get '250 2.1.5 Ok'. */
  rcpt?: Record<string, string>;
  /** Reply to the end of the message body. @defaultValue '250 2.0.0 Ok: queued' */
  afterData?: string;
  /** Wait this long before the reply to the end of the body. */
  stallAfterDataMs?: number;
  /** 'stall': never answer RSET (the session hangs until the connection ends). */
  rset?: 'stall';
}

export interface PeerMessage {
  from: string;
  /** RCPT TO lines that got a 2xx, as sent (with parameters). */
  rcptLines: string[];
  mailLine: string;
  raw: string;
}

export interface ScriptedPeer {
  port: number;
  script: PeerScript;
  /** Every command line received, in order, over all sessions. */
  commands: string[];
  /** Message bodies read in full (whatever the reply to them). */
  messages: PeerMessage[];
  /** Connections accepted so far. */
  connections(): number;
  /** Closes every open connection from the peer's side (an idle timeout, a restart). */
  dropConnections(): void;
  stop(): Promise<void>;
}

export async function startScriptedPeer(script: PeerScript = {}): Promise<ScriptedPeer> {
  const commands: string[] = [];
  const messages: PeerMessage[] = [];
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    serve(socket, peer.script, commands, messages);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const peer: ScriptedPeer = {
    port: (server.address() as AddressInfo).port,
    script,
    commands,
    messages,
    connections: () => accepted,
    dropConnections: () => {
      for (const s of sockets) s.destroy();
    },
    stop: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  return peer;
}

function serve(socket: Socket, script: PeerScript, commands: string[], messages: PeerMessage[]): void {
  let buffer = '';
  let inData = false;
  let txn: PeerMessage = { from: '', rcptLines: [], mailLine: '', raw: '' };
  let chain = Promise.resolve();
  const reply = (line: string) => void (socket.writable && socket.write(`${line}\r\n`));
  reply(script.greeting ?? '220 peer.test ESMTP');
  if ((script.greeting ?? '220').startsWith('5')) {
    socket.end();
    return;
  }
  const command = (line: string): void => {
    commands.push(line);
    const verb = line.split(/[ :]/)[0].toUpperCase();
    switch (verb) {
      case 'EHLO':
      case 'HELO': {
        if (script.ehlo) return reply(script.ehlo);
        const caps = ['PIPELINING', 'SIZE 10240000', '8BITMIME', 'ENHANCEDSTATUSCODES'];
        if (script.dsn) caps.push('DSN');
        if (script.starttls) caps.push('STARTTLS');
        if (script.auth) caps.push('AUTH PLAIN LOGIN');
        return reply(['peer.test', ...caps].map((c, i, all) => `250${i === all.length - 1 ? ' ' : '-'}${c}`).join('\r\n'));
      }
      case 'STARTTLS':
        return reply(script.starttls ?? '502 5.5.1 not offered');
      case 'AUTH':
        return reply(script.auth ?? '502 5.5.1 not offered');
      case 'MAIL':
        txn = { from: /<([^>]*)>/.exec(line)?.[1] ?? '', rcptLines: [], mailLine: line, raw: '' };
        return reply(script.mail ?? '250 2.1.0 Ok');
      case 'RCPT': {
        const address = (/<([^>]*)>/.exec(line)?.[1] ?? '').toLowerCase();
        const answer = script.rcpt?.[address] ?? '250 2.1.5 Ok';
        if (answer.startsWith('2')) txn.rcptLines.push(line);
        return reply(answer);
      }
      case 'DATA':
        if (txn.rcptLines.length === 0) return reply('554 5.5.1 no valid recipients');
        inData = true;
        return reply('354 End data with <CR><LF>.<CR><LF>');
      case 'RSET':
        txn = { from: '', rcptLines: [], mailLine: '', raw: '' };
        if (script.rset === 'stall') return;
        return reply('250 2.0.0 Ok');
      case 'QUIT':
        reply('221 2.0.0 Bye');
        socket.end();
        return;
      default:
        return reply('250 2.0.0 Ok');
    }
  };
  const endOfData = async (): Promise<void> => {
    messages.push(txn);
    if (script.stallAfterDataMs) await new Promise((r) => setTimeout(r, script.stallAfterDataMs));
    reply(script.afterData ?? '250 2.0.0 Ok: queued');
  };
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('latin1');
    for (;;) {
      if (inData) {
        const end = buffer.indexOf('\r\n.\r\n');
        if (end < 0) return;
        txn.raw = buffer.slice(0, end + 2);
        buffer = buffer.slice(end + 5);
        inData = false;
        chain = chain.then(endOfData);
        continue;
      }
      const eol = buffer.indexOf('\r\n');
      if (eol < 0) return;
      const line = buffer.slice(0, eol);
      buffer = buffer.slice(eol + 2);
      chain = chain.then(() => command(line));
    }
  });
}
