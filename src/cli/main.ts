#!/usr/bin/env node
/**
 * Entry point of the `hermod` command. Builds the program, runs it, and is the one place that
 * turns an error into a message and an exit status (see report-error.ts).
 */
import { buildProgram } from './program.js';
import { reportError } from './report-error.js';

// A reader that stops early (`hermod message list | head`) closes the pipe. The rest of the output
// then has nowhere to go; that is not the command failing, and it must not end in a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

try {
  await (await buildProgram(process.argv.slice(2))).parseAsync(process.argv);
} catch (err) {
  process.exit(reportError(err));
}
