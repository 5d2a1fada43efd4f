import { connect, type Socket } from 'node:net';
import { encodeNetstring, NetstringDecoder } from '../../src/lookup/netstring.js';

/** A raw socketmap client for tests: writes exactly what it is given, reads netstring replies. */
export class SocketmapClient {
  private readonly decoder = new NetstringDecoder(100_000);
  private readonly replies: string[] = [];
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.replies.push(...this.decoder.push(chunk));
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number, host = '127.0.0.1'): Promise<SocketmapClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host }, () => resolve(new SocketmapClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends `NAME KEY` as one netstring and reads the reply. */
  async query(name: string, key: string): Promise<string> {
    this.socket.write(encodeNetstring(`${name} ${key}`));
    return this.reply();
  }

  write(bytes: string | Buffer): void {
    this.socket.write(bytes);
  }

  async reply(timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.replies.length === 0) {
      if (this.closed) throw new Error('connection closed');
      if (Date.now() > deadline) throw new Error('no reply');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.replies.shift()!;
  }

  /** Resolves once the server has closed the connection. */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (!this.closed) throw new Error('still open');
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
