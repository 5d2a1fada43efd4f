import { afterEach, describe, expect, it } from 'vitest';
import { sampleMessage, startHermod, type Harness } from '../helpers/hermod-harness.js';
import { lmtpTransaction } from '../helpers/lmtp-session.js';

let hermod: Harness | undefined;
afterEach(async () => {
  await hermod?.stop();
  hermod = undefined;
});

async function start(plugins: unknown[]): Promise<Harness> {
  return startHermod({ proxy: { trusted: ['127.0.0.1/32'] }, plugins }, [{ address: 'alice@example.test' }, { address: 'bob@example.test' }]);
}

describe('greylisting end to end (embedded store in dataDir)', () => {
  it('answers 451 4.7.1 at RCPT to a new triplet and accepts the retry', async () => {
    hermod = await start([{ name: 'parse' }, { name: 'greylist', config: { delaySeconds: 0 } }]);
    const attempt = () =>
      lmtpTransaction(hermod!.lmtpPort, { client: '203.0.113.5', from: 'sender@remote.test', to: ['alice@example.test'], message: sampleMessage() });
    const first = await attempt();
    expect(first.rcpt.map((r) => r.text)).toEqual(['451 4.7.1 Greylisted, please try again in 0 seconds']);
    expect(first.data).toEqual([]);
    const retry = await attempt();
    expect(retry.rcpt[0].code).toBe(250);
    expect(retry.data[0].text).toMatch(/^250 2\.0\.0 Ok: delivered as /);
    const ledger = await hermod.server.services.store.getLedger(retry.entryIds[0]!);
    expect(ledger[0]).toMatchObject({ plugin: 'greylist', stage: 'rcpt', verdict: 'continue', details: { greylist: 'passed', recipient: 'alice@example.test' } });
  });

  it('greylists per recipient: one RCPT refused, another accepted in the same transaction', async () => {
    hermod = await start([{ name: 'greylist', config: { delaySeconds: 0, allowRecipients: ['bob@example.test'] } }]);
    const result = await lmtpTransaction(hermod.lmtpPort, {
      client: '203.0.113.5',
      from: 'sender@remote.test',
      to: ['alice@example.test', 'bob@example.test'],
      message: sampleMessage(),
    });
    expect(result.rcpt.map((r) => r.code)).toEqual([451, 250]);
    expect(result.data.map((r) => r.code)).toEqual([250]);
  });

  it('does not greylist the local host (no PROXY header)', async () => {
    hermod = await start([{ name: 'greylist' }]);
    const result = await lmtpTransaction(hermod.lmtpPort, { from: 'sender@remote.test', to: ['alice@example.test'], message: sampleMessage() });
    expect(result.data.map((r) => r.code)).toEqual([250]);
  });
});

describe('rate limits end to end', () => {
  it('answers 451 4.7.1 at MAIL once a client address is over its limit', async () => {
    hermod = await start([{ name: 'ratelimit', config: { client: { points: 2, durationSeconds: 60 } } }]);
    const codes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const result = await lmtpTransaction(hermod.lmtpPort, { client: '203.0.113.9', from: `s${i}@remote.test`, to: ['alice@example.test'], message: sampleMessage() });
      codes.push(result.mail.code);
      if (i === 2) expect(result.mail.text).toMatch(/^451 4\.7\.1 Rate limit exceeded, try again in \d+ seconds$/);
    }
    expect(codes).toEqual([250, 250, 451]);
    const other = await lmtpTransaction(hermod.lmtpPort, { client: '203.0.113.10', from: 's@remote.test', to: ['alice@example.test'], message: sampleMessage() });
    expect(other.mail.code).toBe(250);
  });

  it('refuses the connection itself when counting connections', async () => {
    hermod = await start([{ name: 'ratelimit', config: { client: { points: 1, durationSeconds: 60, on: 'connect' } } }]);
    const ok = await lmtpTransaction(hermod.lmtpPort, { client: '203.0.113.9', from: 's@remote.test', to: ['alice@example.test'], message: sampleMessage() });
    expect(ok.data.map((r) => r.code)).toEqual([250]);
    await expect(
      lmtpTransaction(hermod.lmtpPort, { client: '203.0.113.9', from: 's@remote.test', to: ['alice@example.test'], message: sampleMessage() }),
    ).rejects.toThrow(/451 4\.7\.1 Rate limit exceeded/);
  });
});
