import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, hasProgram, startRspamd, type RunningDaemon } from '../../test/helpers/daemons.js';
import { MAIL_FIXTURE_DIR, makeTransaction } from '../../test/helpers/plugin-context.js';
import { loadTestPlugin } from '../../test/helpers/plugin-runner.js';
import { asciiDomain, envelopeAddress, headerBytes } from './client.js';
import rspamd, { rspamdConfigSchema } from './index.js';

const fixture = (name: string): Buffer => readFileSync(`${MAIL_FIXTURE_DIR}${name}`);

// CI installs rspamd (scripts/install-system-deps.sh); elsewhere the suite is skipped without it.
const available = hasProgram('rspamd') || !!process.env.CI;

interface Scan {
  verdict: unknown;
  line: { verdict: string; score: number; reason: string; details?: Record<string, unknown> };
  rspamd: { action: string; score: number; required: number; weight: number; symbols: { name: string; score: number }[] };
}

describe.skipIf(!available)('rspamd plugin against a real rspamd', () => {
  let daemon: RunningDaemon;
  beforeAll(async () => {
    daemon = await startRspamd();
  });
  afterAll(async () => {
    await daemon?.stop();
  });

  async function scan(raw: Buffer, config: Record<string, unknown> = {}, recipients = ['bob@example.com'], failOpen = false): Promise<Scan> {
    const plugin = await loadTestPlugin(rspamd, { config: { port: daemon.port, timeoutMs: 5000, ...config }, failOpen, timeoutMs: 10_000 });
    try {
      const { verdicts, ledger } = await plugin.runStage('message', { transaction: makeTransaction(raw, recipients, 'sender@example.org') });
      return { verdict: verdicts[0], line: ledger[0], rspamd: ledger[0].details?.rspamd as Scan['rspamd'] };
    } finally {
      await plugin.close();
    }
  }

  it.each([
    ['06-gtube.eml', 'reject', ['GTUBE'], 15, 1000],
    ['01-personal.eml', 'no action', [], -5, 6],
    ['07-heuristic-spam.eml', undefined, ['MISSING_DATE'], 1, 100],
  ])('%s: action %s, symbols %j', async (name, action, symbols, min, max) => {
    const { verdict, line, rspamd: result } = await scan(fixture(name));
    expect(verdict).toBeUndefined();
    if (action) expect(result.action).toBe(action);
    expect(result.symbols.map((s) => s.name)).toEqual(expect.arrayContaining(symbols));
    expect(line.score).toBe(result.score);
    expect(line.score).toBeGreaterThanOrEqual(min);
    expect(line.score).toBeLessThanOrEqual(max);
    expect(line.reason).toMatch(/^rspamd /);
  });

  it('sends the envelope: MAIL FROM in From, each recipient in its own Rcpt header', async () => {
    const names = async (recipients: string[], from: string) => {
      const plugin = await loadTestPlugin(rspamd, { config: { port: daemon.port } });
      const { ledger } = await plugin.runStage('message', { transaction: makeTransaction(fixture('01-personal.eml'), recipients, from) });
      await plugin.close();
      return (ledger[0].details?.rspamd as Scan['rspamd']).symbols.map((s) => s.name);
    };
    // 01-personal.eml is From alice@example.org, To bob@example.com.
    expect(await names(['bob@example.com'], 'sender@example.org')).toEqual(expect.arrayContaining(['TO_MATCH_ENVRCPT_ALL', 'FROM_NEQ_ENVFROM']));
    const other = await names(['carol@example.net', 'dave@example.net'], 'alice@example.org');
    expect(other).not.toContain('TO_MATCH_ENVRCPT_ALL');
    expect(other).not.toContain('FROM_NEQ_ENVFROM');
  });

  it('scans SMTPUTF8 mail: UTF-8 MAIL FROM, RCPT and HELO do not throw and do not bypass the scan', async () => {
    const ascii = await scan(fixture('06-gtube.eml'), {}, ['bob@example.com'], true);
    const plugin = await loadTestPlugin(rspamd, { config: { port: daemon.port, timeoutMs: 5000 }, failOpen: true, timeoutMs: 10_000 });
    const transaction = makeTransaction(fixture('06-gtube.eml'), ['收件人@例子.广告'], '用户@例子.广告');
    const { verdicts, ledger } = await plugin.runStage('message', { transaction, session: { heloName: '邮件.例子.广告' } });
    await plugin.close();
    expect(verdicts[0]).toBeUndefined();
    expect(ledger[0].verdict).not.toBe('error-ignored');
    expect(ledger[0].score).toBe(ascii.line.score);
    expect((ledger[0].details?.rspamd as Scan['rspamd']).action).toBe('reject');
  });

  it('sends internationalized domains as A-labels, which rspamd matches against the headers', async () => {
    const raw = Buffer.from(
      'From: alice@example.org\r\nTo: bob@xn--fsqu00a.xn--4rr70v\r\nSubject: hi\r\nMessage-ID: <a@example.org>\r\n' +
        `Date: ${new Date().toUTCString()}\r\n\r\nhello\r\n`,
    );
    const plugin = await loadTestPlugin(rspamd, { config: { port: daemon.port } });
    const { ledger } = await plugin.runStage('message', { transaction: makeTransaction(raw, ['bob@例子.广告'], 'carol@例子.广告') });
    await plugin.close();
    const symbols = (ledger[0].details?.rspamd as Scan['rspamd']).symbols.map((s) => s.name);
    expect(symbols).toEqual(expect.arrayContaining(['TO_MATCH_ENVRCPT_ALL', 'FROM_NEQ_ENVFROM']));
  });

  it('multiplies rspamd scores by weight', async () => {
    const full = await scan(fixture('06-gtube.eml'));
    const half = await scan(fixture('06-gtube.eml'), { weight: 0.5 });
    expect(half.line.score).toBe(Math.round(full.rspamd.score * 50) / 100);
    expect(half.rspamd).toMatchObject({ weight: 0.5, score: full.rspamd.score });
  });

  it('skips messages over maxBytes', async () => {
    const { line } = await scan(fixture('06-gtube.eml'), { maxBytes: 10 });
    expect(line).toMatchObject({ score: 0, reason: expect.stringMatching(/^not scanned: \d+ bytes over maxBytes 10$/) });
  });

  it('with rspamd stopped: 451 4.3.0, or no score when failOpen', async () => {
    await daemon.stop();
    const closed = await scan(fixture('01-personal.eml'));
    expect(closed.verdict).toEqual({ action: 'tempfail', code: 451, enhanced: '4.3.0', text: 'Temporary processing failure, try again later' });
    expect(closed.line.reason).toMatch(/^rspamd failed: rspamd at 127\.0\.0\.1:\d+: connect ECONNREFUSED/);
    const open = await scan(fixture('01-personal.eml'), {}, ['bob@example.com'], true);
    expect(open.verdict).toBeUndefined();
    expect(open.line).toMatchObject({ verdict: 'error-ignored', score: 0 });
  });
});

describe('rspamd envelope encoding', () => {
  it('puts UTF-8 bytes on the wire, domains as A-labels, and drops control characters', () => {
    expect(envelopeAddress('用户@例子.广告')).toBe(Buffer.from('用户@xn--fsqu00a.xn--4rr70v').toString('latin1'));
    expect(envelopeAddress('bob@example.com')).toBe('bob@example.com');
    expect(asciiDomain('邮件.例子.广告')).toBe('xn--5nq051n.xn--fsqu00a.xn--4rr70v');
    expect(headerBytes('a\r\nInjected: 1')).toBe('aInjected: 1');
    expect(Buffer.from(headerBytes('josé'), 'latin1').toString('utf8')).toBe('josé');
  });
});

describe('rspamd plugin against a server that never answers', () => {
  let server: Server;
  let port: number;
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    port = await freePort();
    server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((r) => server.close(r));
  });

  it('gives up after timeoutMs with a tempfail', async () => {
    const plugin = await loadTestPlugin(rspamd, { config: { port, timeoutMs: 200 } });
    const { verdicts, ledger } = await plugin.runStage('message', { transaction: makeTransaction(fixture('01-personal.eml')) });
    await plugin.close();
    expect(verdicts[0]).toMatchObject({ action: 'tempfail', enhanced: '4.3.0' });
    expect(ledger[0].reason).toMatch(/^rspamd failed: rspamd did not answer within 200 ms;/);
  });

  it('has a default for every key', () => {
    expect(rspamdConfigSchema.parse({})).toEqual({ host: '127.0.0.1', port: 11333, timeoutMs: 4000, weight: 1, maxBytes: 20_971_520, password: '' });
  });
});
