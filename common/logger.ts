// Structured logs (one JSON object per line) for every long-running command.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(component: string, level = process.env.FLOWSCOPE_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name: component, level, base: { component, pid: process.pid } });
}
