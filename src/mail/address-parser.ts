import type { parseAddressHeader } from 'mailparser';

type ParseAddressHeader = typeof parseAddressHeader;

let loaded: ParseAddressHeader | undefined;

/**
 * Loads mailparser's address-header parser, for plugins that read address headers (spam, Bayes). mailparser and its decoders (libmime, iconv-lite)
 * are about 30 MiB of heap and code: loaded on the first message rather than at start, a server
 * that has not received mail yet does not hold them. Call (and await) before {@link addressParser}.
 */
export async function loadAddressParser(): Promise<ParseAddressHeader> {
  // Once loaded, no import() again: even of a loaded module it costs a resolution and ticks.
  if (!loaded) loaded = (await import('mailparser')).parseAddressHeader;
  return loaded;
}

/** The address-header parser; {@link loadAddressParser} must have finished first. */
export function addressParser(): ParseAddressHeader {
  if (!loaded) throw new Error('mailparser address parser used before loadAddressParser() finished');
  return loaded;
}
