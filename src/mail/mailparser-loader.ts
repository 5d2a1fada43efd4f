import type * as Mailparser from 'mailparser';

type MailparserModule = typeof Mailparser;

/**
 * mailparser's heaviest dependencies, imported one at a time before it, with a turn of the event
 * loop between them. Each import evaluates its module graph in one synchronous step: all of
 * mailparser at once held the loop 60-75 ms on a busy machine, the largest part alone about 40.
 * Names held in an array so the compiler does not ask for their (absent) type declarations.
 */
const MAILPARSER_PARTS: readonly string[] = ['iconv-lite', 'libmime', 'html-to-text', 'linkify-it', 'he', '@zone-eu/mailsplit'];

let loading: Promise<MailparserModule> | undefined;
let loaded: MailparserModule | undefined;

/**
 * mailparser and its decoders are about 30 MiB of heap and code: loaded with the first message
 * (by the parse, spam and Bayes plugins and the indexer, whichever asks first), not at start, so
 * a server that has not received mail does not hold them. Once loaded, no import() again: even
 * of a loaded module it costs a resolution and several ticks per message.
 */
export function loadMailparser(): Promise<MailparserModule> {
  if (loaded) return Promise.resolve(loaded);
  loading ??= importInParts().then((module) => (loaded = module));
  return loading;
}

async function importInParts(): Promise<MailparserModule> {
  for (const part of MAILPARSER_PARTS) {
    // A failed pre-load is harmless: mailparser's own import below loads the part or says why.
    await import(part).catch(() => undefined);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return import('mailparser');
}

type ParseAddressHeader = MailparserModule['parseAddressHeader'];

/** Loads mailparser (see loadMailparser) for {@link addressParser}: await it once in the hook first. */
export async function loadAddressParser(): Promise<ParseAddressHeader> {
  return (await loadMailparser()).parseAddressHeader;
}

/** mailparser's address-header parser; {@link loadAddressParser} must have finished first. */
export function addressParser(): ParseAddressHeader {
  if (!loaded) throw new Error('mailparser address parser used before loadAddressParser() finished');
  return loaded.parseAddressHeader;
}
