import { z } from 'zod';

/** Points per factor; the index is their sum, 0..100 with the defaults. */
const weightsSchema = z
  .strictObject({
    /** The last hop came over TLS. @defaultValue 20 */
    tls: z.number().min(0).default(20),
    /** SPF passed. @defaultValue 10 */
    spf: z.number().min(0).default(10),
    /** A DKIM signature passed and aligns with the From domain. @defaultValue 15 */
    dkim: z.number().min(0).default(15),
    /** DMARC passed. @defaultValue 15 */
    dmarc: z.number().min(0).default(15),
    /** Signed end to end (PGP or S/MIME; the signature is not verified). @defaultValue 15 */
    signed: z.number().min(0).default(15),
    /** Encrypted end to end (PGP or S/MIME). @defaultValue 25 */
    encrypted: z.number().min(0).default(25),
  })
  .prefault({});

export const privacyConfigSchema = z.strictObject({
  weights: weightsSchema,
  /**
   * Also count TLS from the topmost Received header (`with ESMTPS`, `using TLS`): set it when
   * Hermod sits behind its own MTA, whose hop from the Internet is the one that matters. @defaultValue false
   */
  tlsFromReceived: z.boolean().default(false),
  /** Tag mail `encrypted` / `signed` and `pgp` / `smime`. @defaultValue true */
  tags: z.boolean().default(true),
  /** Bytes of the raw message scanned for MIME security parts. @defaultValue 1048576 */
  maxScanBytes: z.number().int().positive().default(1024 * 1024),
});

export type PrivacyConfig = z.infer<typeof privacyConfigSchema>;
export type PrivacyWeights = PrivacyConfig['weights'];
