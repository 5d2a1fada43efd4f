import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { generate } from 'selfsigned';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/protocol/password-hash.js';
import { startHermod, type Harness } from '../helpers/hermod-harness.js';
import { RawSmtpClient } from '../helpers/smtp-client.js';

let tls: { key: string; cert: string };
let hermod: Harness | undefined;

beforeAll(async () => {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048 });
  const dir = mkdtempSync(join(tmpdir(), 'hermod-sub-tls-'));
  writeFileSync(join(dir, 'key.pem'), pems.private);
  writeFileSync(join(dir, 'cert.pem'), pems.cert);
  tls = { key: join(dir, 'key.pem'), cert: join(dir, 'cert.pem') };
});

afterEach(async () => {
  await hermod?.stop();
  hermod = undefined;
});

/**
 * Hermod with the submission listener on port 0 and alice@example.test (alias al@example.test,
 * password "s3cret"). Outbound delivery goes to a closed loopback port, so nothing leaves.
 */
async function start(submission: Record<string, unknown> = {}, overrides: Record<string, unknown> = {}): Promise<{ port: number; tlsPort?: number }> {
  hermod = await startHermod(
    {
      ...overrides,
      tls,
      submission: { enabled: true, port: 0, ...submission },
      relay: { host: '127.0.0.1', port: 9 },
      queue: { retry: { firstMs: 3_600_000 } },
    },
    [{ address: 'alice@example.test', aliases: ['al@example.test'] }],
  );
  await hermod.server.services.store.setPassword('alice@example.test', await hashPassword('s3cret'));
  return { port: hermod.server.submission!.port, tlsPort: hermod.server.submissionTls?.port };
}

interface Attempt {
  user?: string;
  pass?: string;
  method?: 'PLAIN' | 'LOGIN';
  from?: string;
  header?: string;
  to?: string[];
  secure?: boolean;
  requireTls?: boolean;
}

/** One submission with nodemailer's SMTP client; resolves the final reply or the refusal. */
function submit(port: number, a: Attempt): Promise<{ ok: boolean; code: number; response: string }> {
  const conn = new SMTPConnection({
    host: '127.0.0.1',
    port,
    secure: a.secure ?? false,
    requireTLS: a.requireTls ?? true,
    ignoreTLS: a.requireTls === false,
    tls: { rejectUnauthorized: false },
    logger: false,
  });
  const fail = (err: Error & { responseCode?: number; response?: string }) => ({ ok: false, code: err.responseCode ?? 0, response: err.response ?? err.message });
  return new Promise((resolve) => {
    conn.on('error', (err) => resolve(fail(err)));
    conn.connect(() => {
      const send = () => {
        const raw = `From: ${a.header ?? a.from ?? 'alice@example.test'}\r\nTo: bob@remote.test\r\nSubject: sub\r\n\r\nhi\r\n`;
        conn.send({ from: a.from ?? 'alice@example.test', to: a.to ?? ['bob@remote.test'] }, raw, (err, info) => {
          conn.quit();
          resolve(err ? fail(err) : { ok: true, code: 250, response: info.response });
        });
      };
      if (!a.user) return send();
      conn.login({ user: a.user, pass: a.pass ?? 's3cret', method: a.method ?? 'PLAIN' }, (err) => (err ? (conn.close(), resolve(fail(err))) : send()));
    });
  });
}

describe('submission listener', () => {
  it('refuses AUTH before STARTTLS with 538 5.7.11', async () => {
    const { port } = await start();
    const client = await RawSmtpClient.open(port);
    await client.reply();
    const ehlo = await client.command('EHLO client.test');
    expect(ehlo.lines.map((l) => l.slice(4))).toContain('STARTTLS');
    expect((await client.command(`AUTH PLAIN ${Buffer.from('\0alice@example.test\0s3cret').toString('base64')}`)).text).toMatch(/^538 5\.7\.11 /);
    client.close();
  });

  it('accepts AUTH PLAIN and LOGIN after STARTTLS and queues the message for its domain', async () => {
    const { port } = await start();
    const plain = await submit(port, { user: 'alice@example.test', method: 'PLAIN' });
    expect(plain).toMatchObject({ ok: true });
    expect(plain.response).toMatch(/^250 2\.0\.0 Ok: queued as [0-9A-Z]{26}$/);
    expect((await submit(port, { user: 'alice@example.test', method: 'LOGIN' })).ok).toBe(true);
    const jobs = await hermod!.server.outbound!.queue.list();
    expect(jobs.map((j) => [j.sender, j.domain, j.recipients.map((r) => r.address)])).toEqual([
      ['alice@example.test', 'remote.test', ['bob@remote.test']],
      ['alice@example.test', 'remote.test', ['bob@remote.test']],
    ]);
    const raw = (await hermod!.server.outbound!.queue.readBody(jobs[0].messageId))!.toString();
    expect(raw).toMatch(/^Received: from .*\r\n\t\(using TLSv1\.[23] with cipher \S+ \(\d+\/\d+ bits\)\)\r\n\tby localhost \(Hermod\) with ESMTPSA id/);
    expect(raw).toMatch(/^Message-ID: </m);
  });

  it('lets the user send only as its own address or alias: 553 5.7.1 for MAIL FROM and for From', async () => {
    const { port } = await start();
    expect(await submit(port, { user: 'alice@example.test', from: 'al@example.test' })).toMatchObject({ ok: true });
    expect(await submit(port, { user: 'alice@example.test', from: 'alice+list@example.test' })).toMatchObject({ ok: true });
    const envelope = await submit(port, { user: 'alice@example.test', from: 'ceo@example.test' });
    expect(envelope.response).toMatch(/^553 5\.7\.1 /);
    const header = await submit(port, { user: 'alice@example.test', from: 'alice@example.test', header: 'CEO <ceo@example.test>' });
    expect(header.response).toMatch(/^553 5\.7\.1 From header/);
  });

  it('refuses wrong passwords with 535 5.7.8 and throttles per user, then per client address', async () => {
    const { port } = await start({ maxAuthFailuresPerUser: 2, maxAuthFailuresPerClient: 4 });
    expect((await submit(port, { user: 'alice@example.test', pass: 'wrong' })).response).toMatch(/^535 5\.7\.8 /);
    expect((await submit(port, { user: 'alice@example.test', pass: 'wrong' })).response).toMatch(/^535 5\.7\.8 /);
    // The right password no longer helps for this user: no password check is made.
    expect((await submit(port, { user: 'alice@example.test' })).response).toMatch(/^454 4\.7\.0 /);
    expect((await submit(port, { user: 'x@example.test', pass: 'x' })).response).toMatch(/^535 /);
    expect((await submit(port, { user: 'y@example.test', pass: 'y' })).response).toMatch(/^535 /);
    expect((await submit(port, { user: 'z@example.test', pass: 'z' })).response).toMatch(/^454 4\.7\.0 /);
    const failures = hermod!.logs.filter((l) => l.msg === 'submission login failed');
    expect(failures).toHaveLength(4);
    expect(JSON.stringify(hermod!.logs)).not.toMatch(/wrong|s3cret/);
  });

  it('counts a +tag, an alias and another case of alice as alice: after her lockout they get 454 too', async () => {
    const { port } = await start({ maxAuthFailuresPerUser: 2, maxAuthFailuresPerClient: 100 });
    expect((await submit(port, { user: 'alice@example.test', pass: 'wrong' })).response).toMatch(/^535 /);
    expect((await submit(port, { user: 'alice+x@example.test', pass: 'wrong' })).response).toMatch(/^535 /);
    for (const user of ['alice@example.test', 'alice+x@example.test', 'alice+y@example.test', 'al@example.test', 'ALICE@Example.test']) {
      expect((await submit(port, { user })).response, user).toMatch(/^454 4\.7\.0 /);
    }
  });

  it('offers DSN, refuses bad NOTIFY/RET/ENVID/ORCPT with 501 5.5.4 and queues the good ones with the job', async () => {
    const { port } = await start({ trustedNetworks: ['127.0.0.0/8'] });
    const client = await RawSmtpClient.open(port);
    await client.reply();
    expect((await client.command('EHLO client.test')).lines.map((l) => l.slice(4))).toContain('DSN');
    expect((await client.command(`MAIL FROM:<a@example.test> ENVID=${'x'.repeat(101)}`)).text).toMatch(/^501 5\.5\.4 /);
    expect((await client.command('MAIL FROM:<a@example.test> RET=ALL')).text).toMatch(/^501 /);
    expect((await client.command('MAIL FROM:<a@example.test> RET=HDRS ENVID=env+2B42')).text).toMatch(/^250 /);
    expect((await client.command('RCPT TO:<bob@remote.test> NOTIFY=NEVER,SUCCESS')).text).toMatch(/^501 /);
    expect((await client.command('RCPT TO:<bob@remote.test> ORCPT=nosemicolon')).text).toMatch(/^501 /);
    expect((await client.command('RCPT TO:<bob@remote.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Bob@remote.test')).text).toMatch(/^250 /);
    expect((await client.command('RCPT TO:<carol@remote.test>')).text).toMatch(/^250 /);
    expect((await client.command('DATA')).text).toMatch(/^354 /);
    expect((await client.command('From: a@example.test\r\nSubject: dsn\r\n\r\nhi\r\n.')).text).toMatch(/^250 /);
    client.close();
    const [job] = await hermod!.server.outbound!.queue.list();
    expect(job.dsn).toEqual({ ret: 'HDRS', envid: 'env+42' });
    expect(job.recipients).toEqual([
      { address: 'bob@remote.test', status: 'pending', notify: ['SUCCESS', 'FAILURE'], orcpt: 'rfc822;Bob@remote.test' },
      { address: 'carol@remote.test', status: 'pending' },
    ]);
  });

  it('relays only after AUTH (530 5.7.0), or without AUTH from a trusted network', async () => {
    const { port } = await start();
    expect((await submit(port, {})).response).toMatch(/^530 5\.7\.0 /);
    await hermod!.stop();
    const trusted = await start({ trustedNetworks: ['127.0.0.0/8'] });
    expect(await submit(trusted.port, { from: 'anyone@elsewhere.test' })).toMatchObject({ ok: true });
  });

  it('allows AUTH without TLS from loopback only when configured', async () => {
    const { port } = await start({ allowPlaintextAuthOnLoopback: true });
    expect(await submit(port, { user: 'alice@example.test', requireTls: false })).toMatchObject({ ok: true });
  });

  it('offers an implicit-TLS port beside the STARTTLS one', async () => {
    const { tlsPort } = await start({ implicitTlsPort: 0 });
    expect(await submit(tlsPort!, { user: 'alice@example.test', secure: true, requireTls: false })).toMatchObject({ ok: true });
  });

  it('counts submission DATA in limits.maxInflightBytes: 451 4.3.1 on every listener while it holds the budget, 250 once answered', async () => {
    const { port } = await start({ trustedNetworks: ['127.0.0.0/8'] }, { limits: { maxInflightBytes: 1024, inflightWaitMs: 200 } });
    const held = await openSubmission(port);
    const body = Array.from({ length: 200 }, (_, i) => `line ${i}`.padEnd(76, 'x')).join('\r\n');
    held.write(`From: a@example.test\r\nSubject: held\r\n\r\n${body}\r\n`);
    await until(() => hermod!.server.inflightBytes!() >= 1024);

    const other = await openSubmission(port);
    expect((await other.command('From: a@example.test\r\nSubject: other\r\n\r\nhi\r\n.')).text).toMatch(/^451 4\.3\.1 /);
    const lmtp = await RawSmtpClient.open(hermod!.lmtpPort);
    await lmtp.reply();
    await lmtp.command('LHLO client.test');
    await lmtp.command('MAIL FROM:<bob@remote.test>');
    expect((await lmtp.command('RCPT TO:<alice@example.test>')).code).toBe(250);
    expect((await lmtp.command('DATA')).code).toBe(354);
    expect((await lmtp.command('From: bob@remote.test\r\nSubject: lmtp\r\n\r\nhi\r\n.')).text).toMatch(/^451 4\.3\.1 /);

    expect((await held.command('.')).text).toMatch(/^250 /);
    expect(hermod!.server.inflightBytes!()).toBe(0);
    expect((await other.command('MAIL FROM:<a@example.test>')).code).toBe(250);
    expect((await other.command('RCPT TO:<bob@remote.test>')).code).toBe(250);
    expect((await other.command('DATA')).code).toBe(354);
    expect((await other.command('From: a@example.test\r\nSubject: retried\r\n\r\nhi\r\n.')).text).toMatch(/^250 /);
    for (const client of [held, other, lmtp]) client.close();
    expect(await hermod!.server.outbound!.queue.list()).toHaveLength(2);
  });
});

/** A submission transaction from a trusted address, up to the 354 of DATA. */
async function openSubmission(port: number): Promise<RawSmtpClient> {
  const client = await RawSmtpClient.open(port);
  await client.reply();
  await client.command('EHLO client.test');
  expect((await client.command('MAIL FROM:<a@example.test>')).code).toBe(250);
  expect((await client.command('RCPT TO:<bob@remote.test>')).code).toBe(250);
  expect((await client.command('DATA')).code).toBe(354);
  return client;
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 10));
}
