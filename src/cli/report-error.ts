import { CommanderError } from 'commander';
import { debugEnabled } from './context.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './exit-codes.js';

/** HermodError codes that mean "the operator asked for something wrong": exit 2. */
const USAGE_CODES = new Set(['HERMOD_CONFIG', 'HERMOD_INPUT', 'HERMOD_PLUGIN']);

/** commander codes that are not errors: help or version was asked for and printed. */
const COMMANDER_DONE = new Set(['commander.helpDisplayed', 'commander.version']);

/** Collapses a message to one line and drops commander's "error: " prefix. */
function oneLine(message: string): string {
  return message
    .replace(/^error: /, '')
    .split(/\r?\n/)
    .map((part) => part.trim())
    .filter(Boolean)
    .join(' ');
}

/**
 * The stable code of a HermodError (any subclass), or undefined. Matched by the `code` field
 * rather than `instanceof`, so errors from a second copy of the module are still recognised.
 */
function hermodCode(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('HERMOD_') ? code : undefined;
}

/** A Node.js system call failure (EADDRINUSE, EACCES, ENOSPC…): it carries `syscall` and `code`. */
function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

/**
 * Turns any error that reached the top of the CLI into one line on stderr and an exit code.
 * Never prints a stack trace unless HERMOD_DEBUG is set.
 *
 * @returns the exit code: 0 after help/version, 2 for usage, input and config errors, 1 otherwise.
 */
export function reportError(err: unknown, write: (line: string) => void = (l) => process.stderr.write(l)): number {
  if (err instanceof CommanderError) {
    if (COMMANDER_DONE.has(err.code)) return EXIT_OK;
    // Help shown because a command group was called without a subcommand: already printed.
    if (err.code === 'commander.help') return EXIT_USAGE;
    write(`hermod: ${oneLine(err.message)}\n`);
    return EXIT_USAGE;
  }
  const code = hermodCode(err);
  if (code !== undefined) {
    const error = err as Error;
    // A config with several problems reports each on its own line, so all are fixed in one round.
    const problems = (error as { problems?: unknown }).problems;
    const lines = Array.isArray(problems) && problems.length > 0 ? problems.map(String) : [error.message];
    for (const line of lines) write(`hermod: ${oneLine(line)}\n`);
    if (debugEnabled() && error.stack) write(`${error.stack}\n`);
    return USAGE_CODES.has(code) ? EXIT_USAGE : EXIT_FAILURE;
  }
  if (isSystemError(err)) {
    // The environment said no (port in use, permission denied): not a bug, so not "internal".
    write(`hermod: ${oneLine(err.message)}\n`);
    if (debugEnabled() && err.stack) write(`${err.stack}\n`);
    return EXIT_FAILURE;
  }
  const message = err instanceof Error ? err.message : String(err);
  write(`hermod: internal error: ${oneLine(message)}${debugEnabled() ? '' : ' (set HERMOD_DEBUG=1 for details)'}\n`);
  if (debugEnabled() && err instanceof Error && err.stack) write(`${err.stack}\n`);
  return EXIT_FAILURE;
}
