import { connect, type Socket } from 'node:net';

/** A reply as read off the wire: code plus every line's text. */
export interface WireReply {
  code: number;
  lines: string[];
  /** The last line, e.g. "250 2.0.0 Ok". */
  text: string;
}

/**
 * A deliberately plain SMTP/LMTP client for protocol tests: it writes exactly the bytes it is
 * given (so tests can send malformed and smuggling sequences) and reads replies line by line.
 */
export class RawSmtpClient {
  private buffer = '';
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString('latin1');
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number, host = '127.0.0.1', preamble?: Buffer): Promise<RawSmtpClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host }, () => {
        if (preamble) socket.write(preamble);
        resolve(new RawSmtpClient(socket));
      });
      socket.once('error', reject);
    });
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Sends one command line (CRLF added) and reads its reply. */
  async command(line: string): Promise<WireReply> {
    this.write(`${line}\r\n`);
    return this.reply();
  }

  /** Reads one (possibly multi-line) reply; throws if the connection closes first. */
  async reply(timeoutMs = 10_000): Promise<WireReply> {
    const deadline = Date.now() + timeoutMs;
    const lines: string[] = [];
    for (;;) {
      const end = this.buffer.indexOf('\r\n');
      if (end >= 0) {
        const line = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        lines.push(line);
        if (line[3] !== '-') return { code: Number(line.slice(0, 3)), lines, text: line };
        continue;
      }
      if (this.closed) throw new Error(`connection closed; got ${JSON.stringify(lines)}`);
      if (Date.now() > deadline) throw new Error(`no reply within ${timeoutMs} ms`);
      await this.waitForData(deadline - Date.now());
    }
  }

  /** Resolves true when the server closed the connection within the time. */
  async waitClosed(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await this.waitForData(deadline - Date.now());
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }

  private waitForData(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.max(ms, 1));
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
