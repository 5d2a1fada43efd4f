import { pino, type Logger } from 'pino';
import type { HermodConfig } from './config/schema.js';

/** Log times as ISO-8601 in UTC (`"time":"2026-05-04T10:00:00.000Z"`), readable without tools. */
export const isoTime = pino.stdTimeFunctions.isoTime;

/** The process logger: pino JSON on stdout, level from config, ISO-8601 times. */
export function createLogger(config: Pick<HermodConfig, 'log'>): Logger {
  return pino({ level: config.log.level, base: { service: 'hermod' }, timestamp: isoTime });
}
