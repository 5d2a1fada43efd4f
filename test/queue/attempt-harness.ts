import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ulid } from 'ulid';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { AttemptRunner } from '../../src/queue/attempt-runner.js';
import { Bouncer } from '../../src/queue/bouncer.js';
import { LocalDeliverer } from '../../src/queue/delivery/local-deliverer.js';
import { RemoteDeliverer } from '../../src/queue/delivery/remote-deliverer.js';
import type { OutboundQueue } from '../../src/queue/outbound-queue.js';
import { RetryPolicy } from '../../src/queue/retry-policy.js';
import type { TransactionCore } from '../../src/transaction/transaction-core.js';

/** Attempt runners on a given queue, delivering through a smarthost (the scripted peer). */
export interface AttemptHarness {
  runner(queue: OutboundQueue): AttemptRunner;
  close(): Promise<void>;
}

export async function attemptHarness(smarthostPort: number): Promise<AttemptHarness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'hermod-attempt-'));
  const config = loadConfig({ env: {}, overrides: { dataDir, relay: { host: '127.0.0.1', port: smarthostPort }, log: { level: 'silent' } } });
  const log = pino({ level: 'silent' });
  const remote = new RemoteDeliverer(config, log);
  const policy = new RetryPolicy(config.queue.retry, config.queue.delayWarningMs);
  // Notices go back to the sender's domain as ordinary jobs.
  const prepare = async (s: { sender: string; recipients: string[]; raw: Buffer }) => ({
    messageId: ulid(),
    sender: s.sender,
    destinations: [{ domain: s.recipients[0].split('@')[1], recipients: s.recipients, local: false }],
    raw: s.raw,
  });
  return {
    runner: (queue) =>
      new AttemptRunner({
        queue,
        // No job of these tests is local: the store is never reached.
        local: new LocalDeliverer(null as unknown as TransactionCore, config.hostname),
        remote,
        policy,
        bouncer: new Bouncer(prepare, policy, config.hostname, log),
        log,
      }),
    close: async () => {
      remote.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
