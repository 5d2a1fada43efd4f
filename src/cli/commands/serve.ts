import type { Command } from 'commander';
import { createLogger } from '../../log.js';
import { loadCliConfig } from '../context.js';
import { EXIT_FAILURE, EXIT_OK } from '../exit-codes.js';

/** Registers `hermod serve`. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('start the LMTP and SMTP listeners and the search indexer, and run until stopped')
    .addHelpText(
      'after',
      '\nLogs are JSON lines (pino) on stdout; the level is log.level in the config.\n' +
        'SIGTERM or SIGINT (Ctrl-C) stops accepting connections and waits up to shutdownTimeoutMs for\n' +
        'transactions in flight, then exits 0. A second signal exits 1 at once.',
    )
    .action(async (_opts: object, cmd: Command) => {
      const config = loadCliConfig(cmd);
      const log = createLogger(config);
      // Imported here so the admin commands never load the listeners.
      const { startServer } = await import('../../server.js');
      const server = await startServer(config, log);
      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) {
          log.warn({ signal }, 'second signal: exiting without waiting');
          process.exit(EXIT_FAILURE);
        }
        stopping = true;
        log.info({ signal }, 'shutting down');
        server.close().then(
          () => process.exit(EXIT_OK),
          (err: unknown) => {
            log.error({ err }, 'shutdown failed');
            process.exit(EXIT_FAILURE);
          },
        );
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
}
