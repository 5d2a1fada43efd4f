#!/usr/bin/env node
/**
 * Entry point of the `hermod` command. Builds the program, runs it, and is the one place that
 * turns an error into a message and an exit status (see report-error.ts).
 */
import { buildProgram } from './program.js';
import { reportError } from './report-error.js';

try {
  await (await buildProgram(process.argv.slice(2))).parseAsync(process.argv);
} catch (err) {
  process.exit(reportError(err));
}
