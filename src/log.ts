import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger };

/** Bytes of log lines held while stdout is not read (a stalled collector); past it lines are dropped. */
export const MAX_LOG_BUFFER = 16 * 1024 * 1024;

/**
 * JSON lines on stdout; secrets are cut out wherever a caller passes them by mistake. Written
 * asynchronously (lines gather while a write is under way; pino writes what is left when the
 * process exits): a blocking write per line cost a poll more than answering it. A SIGKILL can
 * lose the last lines; never a state, which is committed before anything is answered or logged.
 */
export function createLogger(
  level: string,
  destination: DestinationStream = pino.destination({ dest: 1, sync: false, maxLength: MAX_LOG_BUFFER }),
): Logger {
  return pino(
    {
      level,
      base: { service: 'gateway' },
      redact: {
        paths: [
          '*.apiKey',
          '*.apiKeys',
          '*.secretKey',
          '*.token',
          '*.webhookToken',
          '*.adminToken',
          '*.authorization',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
