import { z } from 'zod';

/**
 * The ops HTTP listener: /healthz, /readyz, /metrics, and the admin API when `api.enabled`.
 * With `tls.cert` and `tls.key` the whole listener speaks HTTPS.
 */
export const opsSchema = z
  .strictObject({
    /** Open the ops listener. @defaultValue false */
    enabled: z.boolean().default(false),
    /** Listen address. @defaultValue "127.0.0.1" */
    host: z.string().default('127.0.0.1'),
    /** Listen port; 0 picks a free port (tests). @defaultValue 9424 */
    port: z.number().int().min(0).max(65535).default(9424),
    tls: z
      .strictObject({
        /** PEM certificate file; with `key`, the listener serves HTTPS only. */
        cert: z.string().optional(),
        /** PEM private key file. */
        key: z.string().optional(),
      })
      .prefault({}),
    api: z
      .strictObject({
        /** Serve the admin API under /api/v1 (bearer tokens from `hermod token create`). @defaultValue false */
        enabled: z.boolean().default(false),
        /** Hashed tokens; a relative path is under dataDir. @defaultValue "admin-tokens.json" */
        tokensFile: z.string().min(1).default('admin-tokens.json'),
        /** Largest request body accepted, in bytes. @defaultValue 1048576 */
        maxBodyBytes: z.number().int().positive().default(1_048_576),
      })
      .prefault({}),
  })
  .prefault({});

export type OpsConfig = z.infer<typeof opsSchema>;
