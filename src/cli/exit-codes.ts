/** Process exit codes of the `hermod` command. */
export const EXIT_OK = 0;
/** A failure: something not found, a store or server fault, an internal error. */
export const EXIT_FAILURE = 1;
/** A usage error: a bad flag or argument, invalid input, invalid configuration. */
export const EXIT_USAGE = 2;
