import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { copyFile, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Large raw messages of the SQLite store, as content-addressed files: `<dir>/<first two hex
 * digits>/<sha256>`. Why files and not incremental blob I/O: better-sqlite3 has no blob handle
 * (sqlite3_blob_open is not exposed), so a 50 MiB message would go into SQLite as one bound
 * Buffer, copied by SQLite and written through the WAL (twice on disk, and a checkpoint stall).
 * A file is written once, copied by the kernel from the DATA spool, and read back by streaming
 * or one exact-size read.
 *
 * Durability: a file is written to a temporary name, fsynced, renamed to its final name, and its
 * directory fsynced (the root too when the shard directory is new), all before the SQLite commit
 * that refers to it; so a committed row never points at a file a power cut can lose.
 *
 * Consistency with deletions: a row with `in_file = 1` and its file are checked and removed under
 * SQLite's write lock (an IMMEDIATE transaction): the writer checks that the file exists before
 * it commits a reference, and the remover unlinks a file only when no row refers to it. A file
 * whose row went away without its unlink (a crash in between) is swept at the next open.
 */
export class BlobFiles {
  constructor(
    readonly dir: string,
    private readonly thresholdBytes: number,
  ) {}

  /** Raw messages of more than the threshold go to files. */
  wants(size: number): boolean {
    return size > this.thresholdBytes;
  }

  pathOf(sha256: string): string {
    return join(this.dir, sha256.slice(0, 2), sha256);
  }

  exists(sha256: string): boolean {
    return existsSync(this.pathOf(sha256));
  }

  /**
   * Makes the file durable: copied from `rawFile` (the DATA spool) when given, else written from
   * `raw`. A file already there is the same bytes (content-addressed); its directory is fsynced
   * again, in case its writer has not got that far yet.
   */
  async put(sha256: string, raw: Buffer, rawFile?: string): Promise<void> {
    const shard = join(this.dir, sha256.slice(0, 2));
    const final = join(shard, sha256);
    const created = await mkdir(shard, { recursive: true });
    if (created !== undefined) await fsyncDir(this.dir);
    if (!(await present(final))) {
      const tmp = join(shard, `.${sha256}.${randomUUID()}.tmp`);
      try {
        await writeDurably(tmp, raw, rawFile);
        await rename(tmp, final);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    }
    await fsyncDir(shard);
  }

  /**
   * `prefix` followed by the file's bytes, in one Buffer of exactly their joint length: a full
   * message (prepended headers + raw) without a second copy of a large raw message.
   */
  async readAfter(sha256: string, prefix: Buffer): Promise<Buffer> {
    const handle = await open(this.pathOf(sha256), 'r');
    try {
      const { size } = await handle.stat();
      const out = Buffer.allocUnsafe(prefix.length + size);
      prefix.copy(out, 0);
      for (let at = 0; at < size; ) {
        const { bytesRead } = await handle.read(out, prefix.length + at, size - at, at);
        if (bytesRead === 0) throw new Error(`${this.pathOf(sha256)} ended after ${at} of ${size} bytes`);
        at += bytesRead;
      }
      return out;
    } finally {
      await handle.close();
    }
  }

  /** Unlinks the file of `sha256`; call under the write lock, after checking no row refers to it. */
  remove(sha256: string): void {
    rmSync(this.pathOf(sha256), { force: true });
  }

  /**
   * Removes files no row refers to and temporary files of interrupted writes, when older than
   * `minAgeMs` (a younger one may belong to a delivery about to commit; the writer's check under
   * the lock would turn such a loss into a 451, the age spares it even that).
   * @param referenced called under the write lock by the caller's transaction wrapper
   */
  sweep(referenced: (sha256: string) => boolean, minAgeMs: number, now = Date.now()): number {
    if (!existsSync(this.dir)) return 0;
    let removed = 0;
    for (const shard of readdirSync(this.dir)) {
      const shardDir = join(this.dir, shard);
      if (!statSync(shardDir).isDirectory()) continue;
      for (const name of readdirSync(shardDir)) {
        const path = join(shardDir, name);
        if (now - statSync(path).mtimeMs < minAgeMs) continue;
        if (SHA256_HEX.test(name) && referenced(name)) continue;
        unlinkSync(path);
        removed++;
      }
    }
    return removed;
  }
}

async function present(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function writeDurably(path: string, raw: Buffer, rawFile?: string): Promise<void> {
  if (rawFile) await copyFile(rawFile, path);
  const file = await open(path, rawFile ? 'r+' : 'wx', 0o600);
  try {
    if (!rawFile) await file.writeFile(raw);
    await file.sync();
  } finally {
    await file.close();
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
