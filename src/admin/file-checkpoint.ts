import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StoreError } from '../errors.js';

/** A JSON checkpoint in a file: load, save (atomically), clear. */
export interface FileCheckpoint<T> {
  /** Where it lives, for messages. */
  readonly file: string;
  load(): T | null;
  save(value: T): void;
  clear(): void;
}

/**
 * A checkpoint file `<dataDir>/checkpoints/<name>.json` for long admin runs (reindex, data
 * migration) that resume after an interruption. Saving writes a temporary file and renames it
 * over the old one, so a crash mid-write leaves the previous checkpoint intact.
 */
export function fileCheckpoint<T>(dataDir: string, name: string): FileCheckpoint<T> {
  const dir = join(dataDir, 'checkpoints');
  const file = join(dir, `${name.replace(/[^A-Za-z0-9._-]/g, '_')}.json`);
  return {
    file,
    load(): T | null {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw new StoreError(`cannot read checkpoint ${file}: ${(err as Error).message}`, { cause: err });
      }
      try {
        return JSON.parse(text) as T;
      } catch (err) {
        throw new StoreError(`checkpoint ${file} is not valid JSON; delete it to start over`, { cause: err });
      }
    },
    save(value: T): void {
      mkdirSync(dir, { recursive: true });
      const tmp = `${file}.tmp`;
      writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
      renameSync(tmp, file);
    },
    clear(): void {
      rmSync(file, { force: true });
    },
  };
}
