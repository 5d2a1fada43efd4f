import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generate } from 'selfsigned';
import { freePort, runOk } from './tools.js';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Loopback addresses, one per role, so that every hop is visible in what Hermod records:
 * swaks connects from CLIENT, Postfix listens and sends from POSTFIX, HAProxy listens and
 * connects from HAPROXY, the Hermod nodes listen on HERMOD. None is 127.0.0.1, where the rest of
 * the suite picks its free ports, so the ports chosen here cannot be taken there meanwhile.
 */
export const ADDR = { CLIENT: '127.0.0.2', POSTFIX: '127.0.0.3', HAPROXY: '127.0.0.4', HERMOD: '127.0.0.5' } as const;

/** One Hermod node as configured by the role. */
export interface NodePorts {
  name: string;
  lmtp: number;
  smtp: number;
  lookup: number;
  ops: number;
}

/** The Hermod nodes and HAProxy in front of them, as the playbook wrote them (whichever MX). */
export interface Cluster {
  dir: string;
  nodes: NodePorts[];
  hermodConfig: (node: string) => string;
  hermodExec: string[];
  haproxyConfig: string;
  haproxySocket: string;
  haproxy: { lmtp: number; smtp: number; lookup: number };
}

/** Where the playbook put everything, and on which ports it all listens. */
export interface Deployment extends Cluster {
  postfixConfigDir: string;
  postfixSmtp: number;
  postfixLog: string;
}

/**
 * Applies ansible/site.yml to localhost (connection local) with the hermod, haproxy and postfix
 * roles, everything under `dir`, on free loopback ports, with service management "none": the
 * roles install and configure, the tests start the daemons from what the roles wrote.
 */
export async function applyDeployment(dir: string, options: DeploymentOptions = {}): Promise<Deployment> {
  const hops = options.hops ?? POSTFIX_HOPS;
  // Postfix's daemons run as user postfix and must reach their directories under dir; each
  // program gets a top-level directory of its own, since the roles create parents like the leaf.
  chmodSync(dir, 0o755);
  for (const sub of ['postfix', 'haproxy', 'log']) mkdirSync(join(dir, sub), { mode: 0o755 });
  const cluster = await clusterLayout(dir, hops, options.nodes);
  const [postfixSmtp] = await ports(hops.MTA, 1);
  const d: Deployment = {
    ...cluster,
    ...(options.hermodExec ? { hermodExec: options.hermodExec } : {}),
    postfixConfigDir: join(dir, 'postfix/etc'),
    postfixSmtp,
    postfixLog: join(dir, 'log/postfix.log'),
  };
  await runPlaybook(dir, { ...(await playbookVars(d, hops)), ...options.roleVars });
  return d;
}

/** What a deployment may change from the two-node default. */
export interface DeploymentOptions {
  /** Names of the Hermod instances. @defaultValue ["node1", "node2"] */
  nodes?: string[];
  /** Loopback addresses of MTA, HAProxy and nodes (another file's deployment may run at once). */
  hops?: Hops;
  /** How the role runs the CLI (default: the sources through tsx). */
  hermodExec?: string[];
  /** Role variables merged over the defaults (e.g. hermod_extra_config). */
  roleVars?: Record<string, unknown>;
}

/** Hermod nodes (node1, node2 by default) and HAProxy under `dir`, on free ports of their loopback addresses. */
export async function clusterLayout(dir: string, hops: Hops, names: string[] = ['node1', 'node2']): Promise<Cluster> {
  const nodes: NodePorts[] = [];
  for (const name of names) {
    const [lmtp, smtp, lookup, ops] = await ports(hops.HERMOD, 4);
    nodes.push({ name, lmtp, smtp, lookup, ops });
  }
  const [lmtp, smtp, lookup] = await ports(hops.HAPROXY, 3);
  // An absolute loader URL: the role runs the CLI from its own working directory.
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return {
    dir,
    nodes,
    hermodConfig: (node) => join(dir, 'hermod/etc', `${node}.yaml`),
    hermodExec: [process.execPath, '--import', tsx, join(REPO, 'src/cli/main.ts')],
    haproxyConfig: join(dir, 'haproxy/haproxy.cfg'),
    haproxySocket: join(dir, 'haproxy/run/admin.sock'),
    haproxy: { lmtp, smtp, lookup },
  };
}

/** ansible-playbook site.yml on localhost with `vars` (which choose the MX and move everything under dir). */
export async function runPlaybook(dir: string, vars: Record<string, unknown>): Promise<void> {
  writeFileSync(join(dir, 'vars.json'), JSON.stringify(vars, null, 2));
  writeFileSync(join(dir, 'inventory.yml'), INVENTORY);
  await runOk(
    'ansible-playbook',
    ['-i', join(dir, 'inventory.yml'), '-e', `@${join(dir, 'vars.json')}`, join(REPO, 'ansible/site.yml')],
    { cwd: join(REPO, 'ansible'), timeoutMs: 480_000, env: { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_FORCE_COLOR: '0' } },
  );
}

/** localhost in the groups whose roles CI applies; the data tier's groups stay empty. */
const INVENTORY = `all:
  hosts:
    localhost:
      ansible_connection: local
      ansible_become: false
      ansible_python_interpreter: /usr/bin/python3
  children:
    hermod: {hosts: {localhost: {}}}
    mx: {hosts: {localhost: {}}}
`;

/** `n` distinct ports that were free on `host` a moment ago. */
export async function ports(host: string, n: number): Promise<number[]> {
  const out: number[] = [];
  while (out.length < n) {
    const port = await freePort(host);
    if (!out.includes(port)) out.push(port);
  }
  return out;
}

/** The role variables: the example inventory's choices, moved under dir and onto test ports. */
async function playbookVars(d: Deployment, hops: Hops): Promise<Record<string, unknown>> {
  const tls = await generate([{ name: 'commonName', value: 'mx.example.test' }], { keySize: 2048 });
  const cert = join(d.dir, 'mx-cert.pem');
  const key = join(d.dir, 'mx-key.pem');
  writeFileSync(cert, tls.cert);
  writeFileSync(key, tls.private, { mode: 0o600 });
  return { ...hermodVars(d, hops), ...haproxyVars(d, hops), ...postfixVars(d, hops, cert, key) };
}

/** Where each hop of a deployment sits: HERMOD nodes, HAPROXY in front, the MTA (MX) before that. */
export interface Hops {
  HAPROXY: string;
  HERMOD: string;
  MTA: string;
}

const POSTFIX_HOPS: Hops = { HAPROXY: ADDR.HAPROXY, HERMOD: ADDR.HERMOD, MTA: ADDR.POSTFIX };

/** The hermod role's variables for `d`; the MTA's address is trusted for `forwarding` (Postfix: XFORWARD). */
export function hermodVars(d: Cluster, hops: Hops = POSTFIX_HOPS, forwarding: 'xforward' | 'xclient' = 'xforward'): Record<string, unknown> {
  return {
    hermod_service_manager: 'none',
    hermod_user: 'root',
    hermod_group: 'root',
    hermod_deploy_method: 'none',
    hermod_nodejs_source: 'none',
    hermod_app_dir: REPO,
    hermod_exec: d.hermodExec.join(' '),
    hermod_config_dir: join(d.dir, 'hermod/etc'),
    hermod_data_dir: join(d.dir, 'hermod/data'),
    hermod_systemd_dir: join(d.dir, 'hermod/systemd'),
    hermod_hostname: 'hermod.example.test',
    hermod_instances: d.nodes.map((n) => ({
      name: n.name,
      lmtp_port: n.lmtp,
      smtp_port: n.smtp,
      lookup_port: n.lookup,
      ops_port: n.ops,
    })),
    hermod_bind_address: hops.HERMOD,
    hermod_ops_address: hops.HERMOD,
    hermod_proxy_trusted: [`${hops.HAPROXY}/32`],
    hermod_xforward_trusted: forwarding === 'xforward' ? [`${hops.MTA}/32`] : [],
    hermod_xclient_trusted: forwarding === 'xclient' ? [`${hops.MTA}/32`] : [],
    hermod_domains: ['example.test'],
    hermod_mailboxes: [{ address: 'alice@example.test', aliases: ['postmaster@example.test'] }],
    hermod_extra_config: { search: { pollMs: 100 } },
  };
}

/** The haproxy role's variables for `d`. */
export function haproxyVars(d: Cluster, hops: Hops = POSTFIX_HOPS): Record<string, unknown> {
  return {
    haproxy_service_manager: 'none',
    haproxy_config_dir: join(d.dir, 'haproxy'),
    haproxy_chroot: '',
    haproxy_daemon: false,
    haproxy_user: 'root',
    haproxy_group: 'root',
    haproxy_stats_socket: d.haproxySocket,
    haproxy_stats_http: '',
    haproxy_log_target: 'stdout',
    haproxy_bind_address: hops.HAPROXY,
    haproxy_source_address: hops.HAPROXY,
    haproxy_lmtp_port: d.haproxy.lmtp,
    haproxy_smtp_port: d.haproxy.smtp,
    haproxy_lookup_port: d.haproxy.lookup,
    haproxy_check_inter: '500ms',
    haproxy_hermod_nodes: d.nodes.map((n) => ({
      name: n.name,
      address: hops.HERMOD,
      lmtp_port: n.lmtp,
      smtp_port: n.smtp,
      lookup_port: n.lookup,
    })),
  };
}

function postfixVars(d: Deployment, hops: Hops, cert: string, key: string): Record<string, unknown> {
  return {
    postfix_service_manager: 'none',
    postfix_config_dir: d.postfixConfigDir,
    postfix_queue_dir: join(d.dir, 'postfix/spool'),
    postfix_data_dir: join(d.dir, 'postfix/lib'),
    postfix_myhostname: 'mx.example.test',
    // Postfix only accepts inet_interfaces that are interface addresses; the extra loopback
    // addresses are bound explicitly (master.cf service, lmtp_bind_address).
    postfix_inet_interfaces: '127.0.0.1',
    postfix_inet_protocols: 'ipv4',
    postfix_mynetworks: ['127.0.0.0/8'],
    postfix_smtp_service: `${hops.MTA}:${d.postfixSmtp}`,
    postfix_lmtp_bind_address: hops.MTA,
    postfix_hermod_lmtp: `inet:${hops.HAPROXY}:${d.haproxy.lmtp}`,
    postfix_hermod_lookup: `inet:${hops.HAPROXY}:${d.haproxy.lookup}`,
    postfix_tls_cert_file: cert,
    postfix_tls_key_file: key,
    postfix_maillog_file: d.postfixLog,
    postfix_fast_retry: true,
  };
}
