import type { PluginManifest } from '../src/plugin-api.js';
import auth from './auth/index.js';
import bayes from './bayes/index.js';
import classify from './classify/index.js';
import dnsbl from './dnsbl/index.js';
import greylist from './greylist/index.js';
import parse from './parse/index.js';
import privacy from './privacy/index.js';
import ratelimit from './ratelimit/index.js';
import rspamd from './rspamd/index.js';
import spam from './spam/index.js';
import spamassassin from './spamassassin/index.js';

/** The plugins shipped with Hermod, by the name used in the `plugins` config list. */
export const builtinPlugins: Record<string, PluginManifest<any, any>> = {
  parse,
  spam,
  bayes,
  classify,
  auth,
  dnsbl,
  greylist,
  ratelimit,
  rspamd,
  spamassassin,
  privacy,
};
