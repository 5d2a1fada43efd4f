import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/load.js';
import type { HermodConfig } from '../../src/config/schema.js';
import { startServer, type RunningServer } from '../../src/server.js';

export interface Harness {
  server: RunningServer;
  config: HermodConfig;
  lmtpPort: number;
  smtpPort: number;
  /** Every JSON log line Hermod wrote. */
  logs: Record<string, unknown>[];
  stop(): Promise<void>;
}

/**
 * Starts a real Hermod on port 0 with a fresh data dir, domain example.test and the given
 * mailboxes. Overrides are merged into the config as a YAML file's values would be.
 */
export async function startHermod(
  overrides: Record<string, unknown> = {},
  mailboxes: { address: string; quotaBytes?: number; aliases?: string[] }[] = [{ address: 'alice@example.test' }],
): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hermod-test-'));
  const config = loadConfig({
    env: {},
    file: undefined,
    overrides: {
      dataDir,
      lmtp: { host: '127.0.0.1', port: 0 },
      smtp: { host: '127.0.0.1', port: 0 },
      log: { level: 'debug' },
      search: { pollMs: 50 },
      ...overrides,
    },
  });
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) logs.push(JSON.parse(line));
      cb();
    },
  });
  const log = pino({ level: config.log.level }, sink);
  const server = await startServer(config, log, { banner: false });
  await server.services.store.addDomain('example.test');
  for (const m of mailboxes) {
    await server.services.store.addMailbox({ address: m.address, aliases: m.aliases ?? [], quotaBytes: m.quotaBytes ?? 0 });
  }
  return {
    server,
    config,
    lmtpPort: server.lmtp?.port ?? 0,
    smtpPort: server.smtp?.port ?? 0,
    logs,
    async stop() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A small valid message with CRLF line ends. */
export function sampleMessage(subject = 'Hello', body = 'Hi there.'): string {
  return [
    'From: Bob <bob@remote.test>',
    'To: alice@example.test',
    `Subject: ${subject}`,
    'Date: Mon, 23 Nov 2026 10:00:00 +0000',
    `Message-ID: <${Math.random().toString(36).slice(2)}@remote.test>`,
    '',
    body,
    '',
  ].join('\r\n');
}
