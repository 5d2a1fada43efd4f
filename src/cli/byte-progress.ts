import cliProgress from 'cli-progress';

/** A progress display over bytes, also counting items; silent when stderr is not a terminal. */
export interface ByteProgress {
  /** `items` more done, holding `bytes` bytes. */
  add(items: number, bytes: number): void;
  stop(): void;
}

const MIB = 1024 * 1024;

/**
 * A progress bar on stderr for long copies (reindex, data migration): the total is in bytes —
 * known up front from the store's usage figures without reading every entry — and the line also
 * shows items done. A resumed run starts at what the checkpoint says was done already.
 */
export function startByteProgress(
  label: string,
  totalBytes: number,
  done: { items: number; bytes: number } = { items: 0, bytes: 0 },
): ByteProgress {
  if (!process.stderr.isTTY || totalBytes === 0) return { add: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {items} messages | {mib}/{totalMib} MiB | ETA {eta_formatted}`,
      stream: process.stderr,
      clearOnComplete: true,
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let items = done.items;
  const mib = (bytes: number): string => (bytes / MIB).toFixed(1);
  bar.start(totalBytes, Math.min(done.bytes, totalBytes), { items, mib: mib(done.bytes), totalMib: mib(totalBytes) });
  let bytesDone = done.bytes;
  return {
    add(count: number, bytes: number): void {
      items += count;
      bytesDone += bytes;
      bar.update(Math.min(bytesDone, totalBytes), { items, mib: mib(bytesDone) });
    },
    stop: () => bar.stop(),
  };
}
