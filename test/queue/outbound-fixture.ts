import { simpleParser, type ParsedMail } from 'mailparser';
import type { AttemptReport } from '../../src/queue/attempt-runner.js';
import { startHermod, type Harness } from '../helpers/hermod-harness.js';
import { startTestDnsServer, type TestDnsServer, type TestRecords } from '../helpers/test-dns-server.js';

/** DNS of the remote world in these tests: remote.test's MX is mx.remote.test = 127.0.0.1. */
export function remoteWorld(): Record<string, TestRecords> {
  return {
    'remote.test': { MX: [{ exchange: 'mx.remote.test', priority: 10 }] },
    'mx.remote.test': { A: ['127.0.0.1'] },
    'other.test': { MX: [{ exchange: 'mx.remote.test', priority: 10 }] },
  };
}

export interface OutboundHarness {
  hermod: Harness;
  dns: TestDnsServer;
  reports: AttemptReport[];
  stop(): Promise<void>;
}

/**
 * A Hermod whose delivery port points at a local receiving MTA, with a test DNS server, a retry
 * schedule in milliseconds and a fast-polling worker. Mailbox alice@example.test is local.
 */
export async function startOutboundHermod(mtaPort: number, overrides: Record<string, unknown> = {}): Promise<OutboundHarness> {
  const dns = await startTestDnsServer(remoteWorld());
  const { queue, delivery, ...rest } = overrides as { queue?: object; delivery?: object };
  const hermod = await startHermod({
    delivery: { port: mtaPort, dnsServers: [dns.address], allowLocalAddresses: true, mtaSts: false, dane: false, connectTimeoutMs: 3000, ...delivery },
    queue: { pollMs: 20, retry: { firstMs: 100, factor: 2, maxIntervalMs: 400, giveUpMs: 60_000 }, delayWarningMs: 0, ...queue },
    ...rest,
  });
  const reports: AttemptReport[] = [];
  hermod.server.outbound!.worker.on('attempt', (r: AttemptReport) => reports.push(r));
  return {
    hermod,
    dns,
    reports,
    async stop() {
      await hermod.stop();
      await dns.close();
    },
  };
}

/** Polls until the check returns something truthy. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A plain outbound message from alice. */
export function outboundMessage(to: string[], subject = 'Outbound test'): Buffer {
  return Buffer.from(
    [
      'From: Alice <alice@example.test>',
      `To: ${to.join(', ')}`,
      `Subject: ${subject}`,
      'Date: Mon, 23 Nov 2026 10:00:00 +0000',
      `Message-ID: <${Math.random().toString(36).slice(2)}@example.test>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=us-ascii',
      '',
      'Hello from Hermod.',
      '',
    ].join('\r\n'),
  );
}

/** Alice's mailbox, parsed, newest first. */
export async function aliceMessages(hermod: Harness): Promise<ParsedMail[]> {
  const store = hermod.server.services.store;
  const mailbox = (await store.resolveAddress('alice@example.test'))!;
  const entries = await store.listEntries({ mailboxId: mailbox.id, limit: 50 });
  return Promise.all(entries.map(async (e) => simpleParser((await store.getFullMessage(e.id))!, { keepDeliveryStatus: true } as never)));
}

/** The per-recipient blocks of a DSN's message/delivery-status part, as field maps (lower-case keys). */
export function deliveryStatus(mail: ParsedMail): { message: Map<string, string>; recipients: Map<string, string>[] } {
  const part = mail.attachments.find((a) => a.contentType === 'message/delivery-status');
  if (!part) throw new Error('no message/delivery-status part');
  const blocks = part.content.toString('utf8').trim().split(/\r?\n\r?\n/).map((block) => {
    const fields = new Map<string, string>();
    for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon > 0) fields.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    return fields;
  });
  return { message: blocks[0], recipients: blocks.slice(1) };
}
