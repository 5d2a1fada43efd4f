import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenFile, tokenFilePath } from '../../src/ops/api/tokens.js';
import { parseScopes } from '../../src/ops/api/scopes.js';
import { sampleMessage, startHermod, type Harness } from '../helpers/hermod-harness.js';
import { lmtpTransaction } from '../helpers/lmtp-session.js';
import { api } from './api-client.js';

let hermod: Harness;
let port: number;
let tokens: TokenFile;
const token: Record<string, string> = {};

beforeAll(async () => {
  hermod = await startHermod({
    ops: { enabled: true, port: 0, api: { enabled: true, maxBodyBytes: 4096 } },
    relay: { host: '127.0.0.1', port: 9 },
    queue: { retry: { firstMs: 3_600_000 } },
  });
  port = hermod.server.ops!.port;
  tokens = new TokenFile(tokenFilePath(hermod.config));
  for (const [name, scopes] of Object.entries({ all: ['all'], read: ['read'], queue: ['queue:read', 'queue:write'] })) {
    token[name] = tokens.create(parseScopes(scopes), name).token;
  }
});

afterAll(async () => {
  await hermod?.stop();
});

describe('admin API: authentication and scopes', () => {
  it('answers 401 with a Bearer challenge without a token, or with an unknown one', async () => {
    const none = await api(port, 'GET', '/api/v1/domains');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer realm="hermod"/);
    expect(none.json.error.code).toBe('HERMOD_UNAUTHORIZED');
    const forged = `${token.all.slice(0, -4)}AAAA`;
    expect((await api(port, 'GET', '/api/v1/domains', { token: forged })).status).toBe(401);
    expect((await api(port, 'GET', '/api/v1/domains', { token: 'not-a-token' })).status).toBe(401);
  });

  it('refuses a token without the endpoint\'s scope with 403 naming the scope', async () => {
    const write = await api(port, 'POST', '/api/v1/queue/hold', { token: token.read, body: { all: true } });
    expect(write.status).toBe(403);
    expect(write.json.error.message).toContain('queue:write');
    expect((await api(port, 'GET', '/api/v1/messages?mailbox=alice@example.test', { token: token.queue })).status).toBe(403);
    expect((await api(port, 'GET', '/api/v1/queue', { token: token.queue })).status).toBe(200);
  });

  it('stops accepting a revoked token at once, without a restart', async () => {
    const { token: temp, info } = tokens.create(parseScopes(['read']), 'temp');
    expect((await api(port, 'GET', '/api/v1/domains', { token: temp })).status).toBe(200);
    tokens.revoke(info.id);
    expect((await api(port, 'GET', '/api/v1/domains', { token: temp })).status).toBe(401);
  });

  it('stores only hashes: the token file never holds a token', async () => {
    const { readFileSync, statSync } = await import('node:fs');
    const text = readFileSync(tokenFilePath(hermod.config), 'utf8');
    // The secret is everything after `hermod_<id>_`; base64url may itself contain '_'.
    for (const t of Object.values(token)) expect(text).not.toContain(t.slice('hermod_0123456789abcdef_'.length));
    expect(statSync(tokenFilePath(hermod.config)).mode & 0o777).toBe(0o600);
  });
});

describe('admin API: bad input answers 400 naming the field', () => {
  it.each([
    ['GET', '/api/v1/messages?mailbox=not-an-address', 'mailbox', undefined],
    ['GET', '/api/v1/messages?mailbox=alice@example.test&limit=0', 'limit', undefined],
    ['GET', '/api/v1/search?mailbox=alice@example.test&q=x&limit=10001', 'limit', undefined],
    ['GET', '/api/v1/messages?mailbox=alice@example.test&before=a%20b', 'before', undefined],
    ['GET', '/api/v1/search?mailbox=alice@example.test&q=has:nothing', 'q', undefined],
    ['GET', '/api/v1/queue?status=queued,bogus', 'status.1', undefined],
    ['GET', '/api/v1/queue?olderThan=soon', 'olderThan', undefined],
    ['POST', '/api/v1/queue/retry', 'all', {}],
    ['POST', '/api/v1/queue/hold', 'all', { all: 'yes' }],
    ['POST', '/api/v1/domains', 'name', { name: 'no_dots' }],
    ['POST', '/api/v1/mailboxes', 'quotaBytes', { address: 'bob@example.test', quotaBytes: -1 }],
    ['POST', '/api/v1/messages/01J9Z3K4QY3V6S8T2W1X0Y9Z8A/move', 'folder', { folder: '\u0007' }],
    ['POST', '/api/v1/index/reindex', 'mailbox', {}],
  ])('%s %s → 400 naming %s', async (method, path, field, body) => {
    const reply = await api(port, method, path, { token: token.all, body });
    expect(reply.status).toBe(400);
    expect(reply.json.error).toMatchObject({ code: 'HERMOD_INPUT', field });
    expect(reply.json.error.message).toContain(field);
  });

  it('answers 400 for a body that is not JSON, 415 for another type, 413 over maxBodyBytes', async () => {
    const bad = await api(port, 'POST', '/api/v1/domains', { token: token.all, rawBody: '{"name":' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.field).toBe('body');
    expect((await api(port, 'POST', '/api/v1/domains', { token: token.all, rawBody: 'name=x', contentType: 'text/plain' })).status).toBe(415);
    expect((await api(port, 'POST', '/api/v1/domains', { token: token.all, body: { name: 'x'.repeat(5000) } })).status).toBe(413);
  });

  it('answers 404 for unknown things and 405 with Allow for a wrong method', async () => {
    expect((await api(port, 'GET', '/api/v1/messages/01J9Z3K4QY3V6S8T2W1X0Y9Z8A', { token: token.all })).status).toBe(404);
    expect((await api(port, 'GET', '/api/v1/queue/NOPE.1', { token: token.all })).status).toBe(404);
    expect((await api(port, 'GET', '/api/v1/nothing', { token: token.all })).status).toBe(404);
    const wrong = await api(port, 'DELETE', '/api/v1/domains', { token: token.all });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('GET, POST');
  });
});

describe('admin API: endpoints', () => {
  it('adds and lists domains and mailboxes', async () => {
    expect((await api(port, 'POST', '/api/v1/domains', { token: token.all, body: { name: 'Other.Test' } })).json).toMatchObject({ name: 'other.test' });
    const added = await api(port, 'POST', '/api/v1/mailboxes', { token: token.all, body: { address: 'carol@other.test', quotaBytes: 1024 } });
    expect(added.status).toBe(201);
    expect(added.json).toMatchObject({ address: 'carol@other.test', quotaBytes: 1024 });
    const domains = (await api(port, 'GET', '/api/v1/domains', { token: token.read })).json;
    expect(domains.map((d: { name: string; mailboxes: number }) => [d.name, d.mailboxes])).toEqual([['example.test', 1], ['other.test', 1]]);
    const refused = await api(port, 'DELETE', '/api/v1/domains/other.test', { token: token.all });
    expect(refused.status).toBe(400);
    expect((await api(port, 'DELETE', '/api/v1/mailboxes/carol@other.test', { token: token.all })).json).toEqual({ removed: 'carol@other.test' });
    expect((await api(port, 'DELETE', '/api/v1/domains/other.test', { token: token.all })).json).toEqual({ removed: 'other.test' });
  });

  it('lists, shows, moves and searches messages; the ledger records the move', async () => {
    const result = await lmtpTransaction(hermod.lmtpPort, { from: 'bob@remote.test', to: ['alice@example.test'], message: sampleMessage('Quarterly invoice') });
    expect(result.data[0].code).toBe(250);
    const list = (await api(port, 'GET', '/api/v1/messages?mailbox=alice@example.test', { token: token.read })).json;
    expect(list).toHaveLength(1);
    const id = list[0].id as string;
    const shown = (await api(port, 'GET', `/api/v1/messages/${id}`, { token: token.read })).json;
    expect(shown.headers).toContainEqual({ name: 'Subject', value: 'Quarterly invoice' });
    const moved = await api(port, 'POST', `/api/v1/messages/${id}/move`, { token: token.all, body: { folder: 'Archive' } });
    expect(moved.json).toEqual({ id, from: 'INBOX', to: 'Archive', moved: true, learned: '' });
    const ledger = (await api(port, 'GET', `/api/v1/messages/${id}/ledger`, { token: token.read })).json;
    expect(ledger.at(-1)).toMatchObject({ plugin: 'operator', stage: 'move', reason: 'moved from INBOX to Archive' });
    const found = await waitForSearch(id);
    expect(found.map((e: { id: string }) => e.id)).toEqual([id]);
  });

  it('lists, shows and changes queue jobs with selectors and dry run', async () => {
    const { jobs } = await hermod.server.outbound!.service.submit({
      sender: 'alice@example.test',
      recipients: ['x@far.test'],
      raw: Buffer.from('From: alice@example.test\r\nTo: x@far.test\r\nSubject: out\r\n\r\nhi\r\n'),
    });
    const jobId = jobs[0].id;
    const job = (await api(port, 'GET', `/api/v1/queue/${jobId}`, { token: token.queue })).json;
    expect(job).toMatchObject({ id: jobId, domain: 'far.test', sender: 'alice@example.test' });
    expect(job.headers).toContain('Subject: out');
    await waitForState(jobId, 'deferred');
    const dry = await api(port, 'POST', '/api/v1/queue/hold', { token: token.queue, body: { domain: 'far.test', dryRun: true } });
    expect(dry.json).toEqual({ action: 'hold', dryRun: true, jobs: [jobId] });
    expect((await api(port, 'GET', `/api/v1/queue?status=held`, { token: token.queue })).json).toEqual([]);
    expect((await api(port, 'POST', '/api/v1/queue/hold', { token: token.queue, body: { ids: [jobId] } })).json.jobs).toEqual([jobId]);
    const stats = (await api(port, 'GET', '/api/v1/queue/stats', { token: token.queue })).json;
    expect(stats).toMatchObject({ total: 1, states: { held: 1 } });
    expect((await api(port, 'POST', '/api/v1/queue/delete', { token: token.queue, body: { status: ['held'] } })).json.jobs).toEqual([jobId]);
    expect((await api(port, 'GET', '/api/v1/queue', { token: token.queue })).json).toEqual([]);
  });

  it('reports spam statistics, trains from a folder, verifies and rebuilds the index', async () => {
    const trained = await api(port, 'POST', '/api/v1/spam/train', { token: token.all, body: { label: 'ham', mailbox: 'alice@example.test', folder: 'Archive' } });
    expect(trained.json).toMatchObject({ label: 'ham', messages: 1, learned: 1, totals: { global: { ham: 1 } } });
    expect((await api(port, 'GET', '/api/v1/spam/stats?mailbox=alice@example.test', { token: token.read })).json).toMatchObject({ global: { spam: 0, ham: 1 } });
    const verify = (await api(port, 'GET', '/api/v1/index/verify', { token: token.read })).json;
    expect(verify.mailboxes[0]).toMatchObject({ address: 'alice@example.test', missing: [], stale: [], orphaned: [] });
    const rebuilt = await api(port, 'POST', '/api/v1/index/reindex', { token: token.all, body: { all: true } });
    expect(rebuilt.json).toMatchObject({ entries: 1, mailboxes: 1, stopped: false });
  });
});

describe('admin API: folders and deletion', () => {
  it('lists folders, deletes a message after a dry run, and names a bad id', async () => {
    const folders = (await api(port, 'GET', '/api/v1/mailboxes/alice@example.test/folders', { token: token.read })).json;
    expect(folders.folders).toEqual([expect.objectContaining({ folder: 'Archive', messages: 1 })]);
    const [entry] = (await api(port, 'GET', '/api/v1/messages?mailbox=alice@example.test', { token: token.read })).json;
    const bad = await api(port, 'POST', '/api/v1/messages/delete', { token: token.all, body: { ids: [entry.id, 'nope'] } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.field).toBe('ids.1');
    expect((await api(port, 'POST', '/api/v1/messages/delete', { token: token.read, body: { ids: [entry.id] } })).status).toBe(403);
    const dry = (await api(port, 'POST', '/api/v1/messages/delete', { token: token.all, body: { ids: [entry.id], dryRun: true } })).json;
    expect(dry).toMatchObject({ dryRun: true, messages: [{ id: entry.id, folder: 'Archive', blobRemoved: false }] });
    expect((await api(port, 'GET', `/api/v1/messages/${entry.id}`, { token: token.read })).status).toBe(200);
    const done = (await api(port, 'POST', '/api/v1/messages/delete', { token: token.all, body: { ids: [entry.id] } })).json;
    expect(done).toMatchObject({ dryRun: false, messages: [{ id: entry.id, blobRemoved: true }] });
    expect((await api(port, 'GET', `/api/v1/messages/${entry.id}`, { token: token.read })).status).toBe(404);
  });
});

async function waitForSearch(id: string): Promise<{ id: string }[]> {
  for (let i = 0; i < 100; i++) {
    const found = (await api(port, 'GET', '/api/v1/search?mailbox=alice@example.test&q=invoice%20folder:Archive', { token: token.read })).json;
    if (found.length > 0 && found[0].id === id) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the index did not catch up');
}

async function waitForState(jobId: string, state: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await api(port, 'GET', `/api/v1/queue/${jobId}`, { token: token.queue })).json.state === state) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`job ${jobId} never became ${state}`);
}
