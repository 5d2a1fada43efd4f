import type { Command } from 'commander';
import type { Logger } from 'pino';
import type { HermodConfig } from '../../config/schema.js';
import { createLogger } from '../../log.js';
import { printBanner, type BannerSource } from '../banner.js';
import { loadCliConfigWithSource } from '../context.js';
import { EXIT_FAILURE, EXIT_OK } from '../exit-codes.js';

/** What `serve` needs from the started server. */
interface Closable {
  close(): Promise<void>;
}

/** Registers `hermod serve`. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('start the LMTP, SMTP and submission listeners, the plugin chain, the search indexer and the outbound delivery worker; run until stopped')
    .addHelpText(
      'after',
      '\nLogs are JSON lines (pino) on stdout; the level is log.level in the config.\n' +
        'SIGTERM or SIGINT (Ctrl-C) stops accepting connections and waits up to shutdownTimeoutMs for\n' +
        'transactions in flight, then exits 0. A second signal exits 1 at once.\n\n' +
        'Beside the listeners, when enabled in the config: lookup.* serves Postfix socketmap lookups\n' +
        '(socketmap:inet:HOST:PORT:domain for virtual_mailbox_domains, …:mailbox for virtual_mailbox_maps),\n' +
        'ops.* serves HTTP /healthz, /readyz (503 while draining) and /metrics (Prometheus).\n\n' +
        'The delivery worker honours MTA-STS (delivery.mtaSts, RFC 8461): an enforce policy restricts\n' +
        'delivery to the MX hosts it lists, over TLS with a certificate valid for the MX name (system CAs\n' +
        'plus delivery.caFile), and defers the message otherwise; a testing policy only logs its failures.\n' +
        'Policies are fetched over HTTPS from mta-sts.<domain> and cached for their max_age.\n\n' +
        'The SMTP and submission listeners offer DSN (RFC 3461; a bad NOTIFY, RET, ENVID or ORCPT gets\n' +
        '501 5.5.4). On the SMTP listener a message stored for a recipient with NOTIFY=SUCCESS makes\n' +
        'Hermod queue a "delivered" notice to the sender.',
    )
    .action(async (_opts: object, cmd: Command) => {
      // The same checks as `hermod config check` (files included), before anything is opened.
      const loaded = loadCliConfigWithSource(cmd, undefined, true);
      const source = { file: loaded.source.file, envVariables: [...loaded.source.envSources.values()] };
      await serve(loaded.config, createLogger(loaded.config), source);
    });
}

/**
 * Starts the server and stops it on the first SIGTERM/SIGINT. The handlers are installed before
 * the server starts, so a signal that arrives while it is starting still gets a clean close.
 * This and main.ts are the only places that call process.exit.
 */
async function serve(config: HermodConfig, log: Logger, source: BannerSource): Promise<void> {
  let server: Closable | undefined;
  let stopping = false;
  const closeAndExit = (running: Closable): void => {
    running.close().then(
      () => process.exit(EXIT_OK),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(EXIT_FAILURE);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(EXIT_FAILURE);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    if (server) closeAndExit(server);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // Imported here so the admin commands never load the listeners.
  const { startServer } = await import('../../server.js');
  const running = await startServer(config, log);
  server = running;
  if (stopping) return closeAndExit(running);
  await printBanner(running, config, source);
}
