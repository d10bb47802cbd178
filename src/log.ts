import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger };

/** JSON lines on stdout; secrets are cut out wherever a caller passes them by mistake. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
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
