import { pino, type Logger } from 'pino';

/** Log levels `--log-level` accepts. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** One log level. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The server's structured logger. It writes JSON lines to stderr so stdout stays free for the
 * few human lines `chat serve` prints (where it listens). Passwords are never passed to it.
 */
export function createLogger(level: LogLevel = 'info'): Logger {
  return pino({ level, base: { app: 'chat' }, redact: ['password', '*.password'] }, pino.destination(2));
}

export type { Logger };
