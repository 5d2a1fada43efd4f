import { pino, type Logger } from 'pino';
import type { HermodConfig } from './config/schema.js';

/** The process logger: pino JSON on stdout, level from config. */
export function createLogger(config: Pick<HermodConfig, 'log'>): Logger {
  return pino({ level: config.log.level, base: { service: 'hermod' } });
}
