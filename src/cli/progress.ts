import cliProgress from 'cli-progress';

/** A progress display for a long command; silent when stderr is not a terminal. */
export interface Progress {
  /** One more item done. */
  tick(): void;
  /** Removes the bar, leaving the terminal clean for the summary line. */
  stop(): void;
}

/**
 * A progress bar on stderr (stdout stays for the command's result), drawn only on a terminal:
 * piped or captured output (scripts, tests) gets just the summary.
 */
export function startProgress(label: string, total: number): Progress {
  if (!process.stderr.isTTY || total === 0) return { tick: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted}`,
      stream: process.stderr,
      clearOnComplete: true,
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return {
    tick: () => bar.increment(),
    stop: () => bar.stop(),
  };
}
