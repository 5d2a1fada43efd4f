import type { RunningServer } from '../server.js';
import type { HermodConfig } from '../config/schema.js';
import { DEFAULT_CONFIG_FILE } from '../config/load.js';

/** What the banner says about where the configuration came from. */
export interface BannerSource {
  /** The config file read, or undefined for built-in defaults. */
  file?: string;
  /** HERMOD_* variables that set keys. */
  envVariables: string[];
}

/**
 * The start banner on stderr: the config that is in effect (file, environment overrides, data
 * dir, where each service listens) and, only while the store holds no domain yet, the commands
 * for a first message, with the same `-c FILE` so they reach the same store.
 */
export async function printBanner(server: RunningServer, config: HermodConfig, source: BannerSource): Promise<void> {
  const lines = ['Hermod is running.'];
  lines.push(`  Config: ${source.file ?? `built-in defaults (no ${DEFAULT_CONFIG_FILE})`}${source.envVariables.length ? `, with ${source.envVariables.join(', ')}` : ''}`);
  lines.push(`  Data: ${config.dataDir} (store: ${config.store.driver}, search: ${config.search.driver}, queue: ${config.queue.driver})`);
  if (server.lmtp) lines.push(`  LMTP listening on ${server.lmtp.address}:${server.lmtp.port}`);
  if (server.smtp) lines.push(`  SMTP listening on ${server.smtp.address}:${server.smtp.port}`);
  if (server.lookup) lines.push(`  Postfix socketmap lookups on ${server.lookup.address}:${server.lookup.port}`);
  if (server.submission) lines.push(`  Submission (STARTTLS, AUTH) on ${server.submission.address}:${server.submission.port}`);
  if (server.submissionTls) lines.push(`  Submission (implicit TLS, AUTH) on ${server.submissionTls.address}:${server.submissionTls.port}`);
  if (server.ops) {
    // The ops listener speaks HTTPS only once both a certificate and a key are configured.
    const scheme = config.ops.tls.cert && config.ops.tls.key ? 'https' : 'http';
    lines.push(`  Ops on ${scheme}://${server.ops.address}:${server.ops.port}/ (healthz, readyz, metrics)`);
  }
  if ((await server.services.store.listDomains()).length === 0) lines.push('', ...firstMessageHints(server, source.file));
  process.stderr.write(lines.join('\n') + '\n');
}

function firstMessageHints(server: RunningServer, file: string | undefined): string[] {
  const hermod = `npx hermod${file && file !== DEFAULT_CONFIG_FILE ? ` -c ${file}` : ''}`;
  const port = server.smtp?.port ?? server.lmtp?.port;
  return [
    'The store is empty. Send a first message (swaks is in Debian: apt-get install swaks):',
    `  ${hermod} domain add example.test`,
    `  ${hermod} mailbox add alice@example.test`,
    server.smtp
      ? `  swaks --server ${server.smtp.address} --port ${port} --to alice@example.test`
      : `  swaks --protocol LMTP --server ${server.lmtp?.address} --port ${port} --to alice@example.test`,
    `  ${hermod} message list --mailbox alice@example.test`,
    '',
  ];
}
