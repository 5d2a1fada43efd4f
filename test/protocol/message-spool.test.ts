import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256Of } from '../../src/mail/message-digest.js';
import { MessageSpool } from '../../src/protocol/message-spool.js';

/** `total` bytes in chunks of `chunk`, every byte value present. */
function bytes(total: number): Buffer {
  const out = Buffer.alloc(total);
  for (let i = 0; i < total; i++) out[i] = (i * 7 + (i >> 8)) & 0xff;
  return out;
}

function chunked(data: Buffer, chunk = 4096): Readable {
  const parts: Buffer[] = [];
  for (let at = 0; at < data.length; at += chunk) parts.push(data.subarray(at, at + chunk));
  return Readable.from(parts);
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('MessageSpool', () => {
  let root: string;
  let spoolDir: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'hermod-spool-'));
    spoolDir = join(root, 'spool');
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('keeps a message at or below the threshold in memory: no file, exact bytes, streamed hash', async () => {
    const spool = new MessageSpool(spoolDir, 64 * 1024);
    await spool.prepare();
    const data = bytes(64 * 1024);
    let counted = 0;
    const received = await spool.receive(chunked(data), 1 << 30, (n) => (counted += n));
    expect(readdirSync(spoolDir)).toEqual([]);
    const message = await received.load();
    expect(message.file).toBeUndefined();
    expect(message.raw.equals(data)).toBe(true);
    expect(message.sha256).toBe(sha256(data));
    expect(received.size).toBe(data.length);
    expect(counted).toBe(data.length);
  });

  it('spools a message past the threshold to one file, hashes it as it streams, and removes it on dispose', async () => {
    const spool = new MessageSpool(spoolDir, 64 * 1024);
    await spool.prepare();
    const data = bytes(64 * 1024 + 1);
    const received = await spool.receive(chunked(data, 1000), 1 << 30, () => undefined);
    const message = await received.load();
    expect(message.file).toBeDefined();
    expect(readdirSync(spoolDir)).toHaveLength(1);
    expect(message.raw.equals(data)).toBe(true);
    // One Buffer of exactly the message's size, not a slice of a larger pool.
    expect(message.raw.buffer.byteLength).toBe(data.length);
    expect(message.sha256).toBe(sha256(data));
    // The digest is on record for the Buffer: the stores' check does not hash it again.
    expect(sha256Of(message.raw)).toBe(sha256(data));
    await received.dispose();
    expect(readdirSync(spoolDir)).toEqual([]);
  });

  it('keeps no byte past maxBytes and still reads the stream to its end', async () => {
    const spool = new MessageSpool(spoolDir, 1024);
    await spool.prepare();
    const data = bytes(20_000);
    const source = chunked(data, 1000);
    const received = await spool.receive(source, 5000, () => undefined);
    expect(received.size).toBe(5000);
    expect(source.readableEnded).toBe(true);
    expect((await received.load()).raw.equals(data.subarray(0, 5000))).toBe(true);
    await received.dispose();
  });

  it('reports a spool write failure and drains the rest, keeping nothing', async () => {
    // A regular file where the spool directory should be: every open fails (ENOTDIR), as a full
    // or broken disk would make the write fail.
    writeFileSync(spoolDir, 'not a directory');
    const spool = new MessageSpool(spoolDir, 1024);
    const source = chunked(bytes(10_000), 1000);
    const received = await spool.receive(source, 1 << 30, () => undefined);
    expect(received.failure).toBeInstanceOf(Error);
    expect(source.readableEnded).toBe(true);
    await received.dispose();
  });

  it('removes the files an earlier run left behind when prepared', async () => {
    mkdirSync(spoolDir, { recursive: true });
    writeFileSync(join(spoolDir, 'left-by-a-crash.eml'), 'x');
    const removed = await new MessageSpool(spoolDir, 1024).prepare();
    expect(removed).toBe(1);
    expect(readdirSync(spoolDir)).toEqual([]);
    expect(existsSync(spoolDir)).toBe(true);
  });
});
