import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasProgram, startSpamd, type RunningDaemon } from '../../test/helpers/daemons.js';
import { MAIL_FIXTURE_DIR, makeTransaction } from '../../test/helpers/plugin-context.js';
import { loadTestPlugin } from '../../test/helpers/plugin-runner.js';
import spamassassin, { spamassassinConfigSchema } from './index.js';
import { parseSpamdResponse, spamcRequest, type SpamdResult } from './spamd-client.js';

const fixture = (name: string): Buffer => readFileSync(`${MAIL_FIXTURE_DIR}${name}`);

// CI installs spamd (scripts/install-system-deps.sh); elsewhere the suite is skipped without it.
const available = hasProgram('spamd') || !!process.env.CI;

describe.skipIf(!available)('spamassassin plugin against a real spamd', () => {
  let daemon: RunningDaemon;
  beforeAll(async () => {
    daemon = await startSpamd();
  });
  afterAll(async () => {
    await daemon?.stop();
  });

  async function scan(raw: Buffer, config: Record<string, unknown> = {}, failOpen = false) {
    const plugin = await loadTestPlugin(spamassassin, { config: { port: daemon.port, timeoutMs: 20_000, ...config }, failOpen, timeoutMs: 30_000 });
    try {
      const { verdicts, ledger } = await plugin.runStage('message', { transaction: makeTransaction(raw) });
      return { verdict: verdicts[0], line: ledger[0], sa: ledger[0].details?.spamassassin as SpamdResult & { weight: number } };
    } finally {
      await plugin.close();
    }
  }

  it.each([
    ['06-gtube.eml', true, ['GTUBE'], 1000, 1100],
    ['01-personal.eml', false, [], -10, 5],
    ['07-heuristic-spam.eml', undefined, [], -10, 100],
  ])('%s: spam %s, rules %j', async (name, spam, rules, min, max) => {
    const { verdict, line, sa } = await scan(fixture(name));
    expect(verdict).toBeUndefined();
    if (spam !== undefined) expect(sa.spam).toBe(spam);
    expect(sa.rules.map((r) => r.name)).toEqual(expect.arrayContaining(rules));
    expect(sa.rules.every((r) => typeof r.score === 'number')).toBe(true);
    expect(line.score).toBe(sa.score);
    expect(line.score).toBeGreaterThanOrEqual(min);
    expect(line.score).toBeLessThanOrEqual(max);
    expect(sa.required).toBe(5);
  });

  it('SYMBOLS gives the rule names without scores', async () => {
    const report = await scan(fixture('06-gtube.eml'));
    const symbols = await scan(fixture('06-gtube.eml'), { command: 'SYMBOLS' });
    expect(symbols.sa.rules.map((r) => r.name).sort()).toEqual(report.sa.rules.map((r) => r.name).sort());
    expect(symbols.sa.rules.every((r) => r.score === undefined)).toBe(true);
    expect(symbols.line.reason).toMatch(/^spamassassin spam, 10\d\d(\.\d+)?\/5: .*GTUBE/);
  });

  it('multiplies scores by weight', async () => {
    const { line, sa } = await scan(fixture('06-gtube.eml'), { weight: 0.01 });
    expect(line.score).toBe(Math.round(sa.score) / 100);
  });

  it('with spamd stopped: 451 4.3.0, or no score when failOpen', async () => {
    await daemon.stop();
    const closed = await scan(fixture('01-personal.eml'));
    expect(closed.verdict).toEqual({ action: 'tempfail', code: 451, enhanced: '4.3.0', text: 'Temporary processing failure, try again later' });
    expect(closed.line.reason).toMatch(/^spamassassin failed: spamd at 127\.0\.0\.1:\d+: connect ECONNREFUSED/);
    const open = await scan(fixture('01-personal.eml'), {}, true);
    expect(open.verdict).toBeUndefined();
    expect(open.line).toMatchObject({ verdict: 'error-ignored', score: 0 });
  });
});

describe('spamd protocol', () => {
  it('writes a SPAMC/1.5 request with the byte length', () => {
    const raw = Buffer.from('Subject: é\r\n\r\nhi\r\n');
    const [head, message] = spamcRequest(raw, { command: 'REPORT', user: 'bob' });
    expect(Buffer.concat([head, message]).toString()).toBe(
      `REPORT SPAMC/1.5\r\nContent-length: ${raw.length}\r\nUser: bob\r\n\r\nSubject: é\r\n\r\nhi\r\n`,
    );
    // The message is sent as it is, not copied behind the head.
    expect(message).toBe(raw);
  });

  it('reads SYMBOLS and REPORT answers, and refuses errors', () => {
    const symbols = 'SPAMD/1.1 0 EX_OK\r\nContent-length: 20\r\nSpam: False ; -0.4 / 5.0\r\n\r\nMISSING_MID,NO_RELAYS';
    expect(parseSpamdResponse(symbols, 'SYMBOLS')).toEqual({ spam: false, score: -0.4, required: 5, rules: [{ name: 'MISSING_MID' }, { name: 'NO_RELAYS' }] });
    const report = 'SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1003.3 / 5.0\r\n\r\nContent analysis details:   (1003.3 points, 5.0 required)\n\n pts rule name              description\n---- ---------------------- ----------\n 2.7 MISSING_DATE           Missing Date: header\n-0.0 NO_RELAYS              Informational: message\n                            was not relayed\n1000 GTUBE                  BODY: Generic Test\n';
    expect(parseSpamdResponse(report, 'REPORT').rules).toEqual([
      { name: 'MISSING_DATE', score: 2.7 },
      { name: 'NO_RELAYS', score: -0 },
      { name: 'GTUBE', score: 1000 },
    ]);
    expect(() => parseSpamdResponse('SPAMD/1.0 76 Bad header line: x\r\n', 'REPORT')).toThrow('spamd error 76 Bad header line: x');
    expect(() => parseSpamdResponse('HTTP/1.1 400 Bad\r\n', 'REPORT')).toThrow(/something else than SPAMD/);
  });

  it('has a default for every key', () => {
    expect(spamassassinConfigSchema.parse({})).toEqual({
      host: '127.0.0.1', port: 783, timeoutMs: 4000, weight: 1, command: 'REPORT', user: '', maxBytes: 512_000,
    });
  });
});
