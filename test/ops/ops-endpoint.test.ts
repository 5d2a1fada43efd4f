import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHermod, sampleMessage, type Harness } from '../helpers/hermod-harness.js';
import { RawSmtpClient } from '../helpers/smtp-client.js';

interface Reply {
  status: number;
  type: string;
  body: string;
}

function get(port: number, path: string, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The value of one series in Prometheus text format, or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function waitFor<T>(fn: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const value = await fn();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function deliver(port: number, rcpts: string[], message = sampleMessage('metrics')): Promise<string[]> {
  const c = await RawSmtpClient.open(port);
  await c.reply();
  await c.command('LHLO client.test');
  await c.command('MAIL FROM:<bob@remote.test>');
  const replies: string[] = [];
  for (const r of rcpts) replies.push((await c.command(`RCPT TO:<${r}>`)).text);
  await c.command('DATA');
  c.write(`${message}.\r\n`);
  const accepted = replies.filter((r) => r.startsWith('250')).length;
  for (let i = 0; i < accepted; i++) replies.push((await c.reply()).text);
  await c.command('QUIT');
  return replies;
}

let hermod: Harness;
let ops: number;

beforeAll(async () => {
  hermod = await startHermod({ ops: { enabled: true, port: 0 } });
  ops = hermod.server.ops!.port;
});

afterAll(async () => {
  await hermod?.stop();
});

describe('ops endpoint', () => {
  it('/healthz answers 200 ok', async () => {
    expect(await get(ops, '/healthz')).toMatchObject({ status: 200, body: 'ok\n' });
  });

  it('/readyz answers 200 with each check when store and search answer', async () => {
    const reply = await get(ops, '/readyz');
    expect(reply.status).toBe(200);
    expect(reply.type).toBe('application/json');
    const report = JSON.parse(reply.body);
    expect(report).toMatchObject({ ready: true, draining: false, checks: { store: { ok: true }, search: { ok: true } } });
  });

  it('answers 404 for other paths and 405 for other methods; HEAD has no body', async () => {
    expect((await get(ops, '/nope')).status).toBe(404);
    expect((await get(ops, '/metrics', 'POST')).status).toBe(405);
    expect(await get(ops, '/healthz', 'HEAD')).toMatchObject({ status: 200, body: '' });
  });

  it('/metrics counts connections, transactions, recipients, plugin, store and index latency', async () => {
    const replies = await deliver(hermod.lmtpPort, ['alice@example.test', 'nobody@example.test']);
    expect(replies[0]).toMatch(/^250/);
    expect(replies[1]).toMatch(/^550/);
    const text = await waitFor(async () => {
      const body = (await get(ops, '/metrics')).body;
      // The indexer applies the entry shortly after delivery.
      return sample(body, 'hermod_index_duration_seconds_count{operation="upsert",result="ok"}') ? body : undefined;
    }, 'the indexer to run');
    expect((await get(ops, '/metrics')).type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(sample(text, 'hermod_connections_total{listener="lmtp"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'hermod_transactions_total{listener="lmtp",outcome="delivered"}')).toBe(1);
    expect(sample(text, 'hermod_recipients_total{listener="lmtp",stage="rcpt",result="accepted"}')).toBe(1);
    expect(sample(text, 'hermod_recipients_total{listener="lmtp",stage="rcpt",result="rejected"}')).toBe(1);
    expect(sample(text, 'hermod_recipients_total{listener="lmtp",stage="data",result="stored"}')).toBe(1);
    expect(sample(text, 'hermod_plugin_duration_seconds_count{plugin="parse",stage="data",verdict="continue"}')).toBe(1);
    expect(sample(text, 'hermod_store_duration_seconds_count{operation="deliver",result="ok"}')).toBe(1);
    expect(sample(text, 'hermod_transaction_duration_seconds_count{listener="lmtp"}')).toBe(1);
    expect(sample(text, 'hermod_outbox_lag_items')).toBe(0);
    // An empty outbound queue still has a series per state.
    expect(sample(text, 'hermod_queue_depth{state="queued"}')).toBe(0);
    expect(sample(text, 'hermod_queue_depth{state="deferred"}')).toBe(0);
    expect(text).toContain('process_cpu_seconds_total');
  });

  it('counts a duplicate delivery as duplicate, not stored', async () => {
    const message = sampleMessage('twice');
    await deliver(hermod.lmtpPort, ['alice@example.test'], message);
    await deliver(hermod.lmtpPort, ['alice@example.test'], message);
    const text = (await get(ops, '/metrics')).body;
    expect(sample(text, 'hermod_recipients_total{listener="lmtp",stage="data",result="duplicate"}')).toBe(1);
  });
});

describe('ops endpoint: not ready', () => {
  it('/readyz answers 503 naming the check that failed', async () => {
    const h = await startHermod({ ops: { enabled: true, port: 0 } });
    try {
      await h.server.services.search.close();
      const reply = await get(h.server.ops!.port, '/readyz');
      expect(reply.status).toBe(503);
      const report = JSON.parse(reply.body);
      expect(report.ready).toBe(false);
      expect(report.checks.store.ok).toBe(true);
      expect(report.checks.search).toMatchObject({ ok: false, error: expect.stringContaining('closed') });
    } finally {
      await h.stop();
    }
  });

  it('/readyz answers 503 draining once SIGTERM-style shutdown began, while a DATA finishes', async () => {
    const h = await startHermod({ ops: { enabled: true, port: 0 } });
    const port = h.server.ops!.port;
    const c = await RawSmtpClient.open(h.lmtpPort);
    await c.reply();
    await c.command('LHLO client.test');
    await c.command('MAIL FROM:<bob@remote.test>');
    await c.command('RCPT TO:<alice@example.test>');
    expect((await c.command('DATA')).code).toBe(354);
    const message = sampleMessage('in flight');
    c.write(message.slice(0, 20));
    const stopped = h.stop();
    const reply = await waitFor(async () => {
      const r = await get(port, '/readyz');
      return r.status === 503 ? r : undefined;
    }, 'readyz to turn 503');
    expect(JSON.parse(reply.body)).toMatchObject({ ready: false, draining: true });
    c.write(`${message.slice(20)}.\r\n`);
    expect((await c.reply()).code).toBe(250);
    await stopped;
  });
});
