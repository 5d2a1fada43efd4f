import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy in front of a real server, which a test can cut off and restore: an outage
 * of one service seen from one client, without stopping the shared server for everyone else.
 *
 * While cut, every open connection is reset and every new one is accepted and reset at once (as
 * a stopped server's port answers), and the time of each refused attempt is kept, so a test can
 * see how often the client tried.
 */
export class TcpProxy {
  private readonly open = new Set<Socket>();
  private cutAt: number | null = null;
  /** When each connection refused during the current or last outage arrived (ms since epoch). */
  readonly refusedAt: number[] = [];
  /** Connections passed through to the server. */
  passed = 0;

  private constructor(
    private readonly server: Server,
    private readonly target: { host: string; port: number },
  ) {
    server.on('connection', (client) => this.accept(client));
  }

  /** Listens on 127.0.0.1, on a port of the system's choosing, in front of `host:port`. */
  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return new TcpProxy(server, target);
  }

  /** Starts a proxy in front of the host and port of an http:// URL. */
  static forUrl(url: string): Promise<TcpProxy> {
    const { hostname, port } = new URL(url);
    return TcpProxy.start({ host: hostname, port: Number(port) });
  }

  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy not listening');
    return address.port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Resets every open connection and refuses new ones until resume(). */
  cut(): void {
    this.cutAt = Date.now();
    this.refusedAt.length = 0;
    for (const socket of this.open) socket.resetAndDestroy();
    this.open.clear();
  }

  /** Lets connections through again. */
  resume(): void {
    this.cutAt = null;
  }

  get isCut(): boolean {
    return this.cutAt !== null;
  }

  async close(): Promise<void> {
    for (const socket of this.open) socket.destroy();
    this.open.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.cutAt !== null) {
      this.refusedAt.push(Date.now());
      client.resetAndDestroy();
      return;
    }
    this.passed++;
    const upstream = createConnection(this.target);
    for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
      this.open.add(a);
      a.pipe(b);
      // A reset on one side resets the other: the client sees what a dying server would show.
      a.on('error', () => b.destroy());
      a.on('close', () => {
        this.open.delete(a);
        b.destroy();
      });
    }
  }
}
