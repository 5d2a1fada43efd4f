import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { HermodConfig } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import type { InflightBudget } from './inflight-budget.js';
import { instrumentAuth } from '../ops/instrument.js';
import type { Metrics } from '../ops/metrics.js';
import { Listener } from './listener.js';
import type { PeerInfo } from './session-state.js';
import { SubmissionHandler } from './submission-handler.js';
import type { MessageSubmitter, SubmissionAccounts } from './submission-session.js';

/** The running submission listeners. */
export interface RunningSubmission {
  address: AddressInfo;
  /** The implicit-TLS port, when configured. */
  implicitTls?: AddressInfo;
  listeners: Listener[];
}

/**
 * Opens the submission listener (STARTTLS) and, when `submission.implicitTlsPort` is set, its
 * implicit-TLS twin, both on Hermod's own accept step (PROXY headers from proxy.trusted). Their
 * DATA counts against the same in-flight budget as the LMTP and SMTP listeners'.
 */
export async function startSubmission(
  config: HermodConfig,
  accounts: SubmissionAccounts,
  outbound: () => MessageSubmitter,
  log: Logger,
  budget: InflightBudget,
  metrics?: Metrics,
): Promise<RunningSubmission | undefined> {
  const s = config.submission;
  if (!s.enabled) return undefined;
  const tls = !!(config.tls.key && config.tls.cert);
  if (s.implicitTlsPort !== null && !tls) throw new ConfigError('submission.implicitTlsPort needs tls.key and tls.cert');
  const peers = new Map<string, PeerInfo>();
  const handler = new SubmissionHandler({ config, accounts, outbound, log: log.child({ listener: 'submission' }), peers, budget });
  if (metrics) instrumentAuth(handler, metrics);
  const serverOptions = {
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: true,
    // smtp-server answers AUTH before STARTTLS with 538 itself; the loopback exception needs it to
    // let the attempt through to onAuth, which decides per client address.
    allowInsecureAuth: s.allowPlaintextAuthOnLoopback,
    disabledCommands: tls ? [] : ['STARTTLS'],
    useXForward: false,
    // RFC 3461: offered, and NOTIFY/RET/ENVID/ORCPT are kept with the queued message.
    hideDSN: false,
    banner: 'Hermod submission',
  };
  const listeners: Listener[] = [];
  const make = (port: number, implicitTls: boolean) =>
    new Listener({
      kind: 'submission',
      host: s.host,
      port,
      config,
      handler,
      peers,
      log,
      implicitTls,
      serverOptions: implicitTls ? { ...serverOptions, secure: true } : serverOptions,
    });
  const main = make(s.port, false);
  listeners.push(main);
  const address = await main.listen();
  let implicitTls: AddressInfo | undefined;
  if (s.implicitTlsPort !== null) {
    const second = make(s.implicitTlsPort, true);
    listeners.push(second);
    implicitTls = await second.listen();
  }
  return { address, implicitTls, listeners };
}
