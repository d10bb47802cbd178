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
export function createLogger(level: string, destination: DestinationStream = stdoutLines()): Logger {
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

/**
 * Stdout through sonic-boom, each line handed over as a Buffer. Given strings, sonic-boom appends
 * a line to the text waiting for the write under way and measures that text's UTF-8 length each
 * time: V8 flattens the growing string to measure it, a copy of up to 16 KB per line (a fifth
 * of the gateway's allocation on a poll, and the collector's pauses in its p99). In buffer mode
 * it keeps a list of Buffers and their lengths, and joins them once per write.
 */
function stdoutLines(): DestinationStream {
  const stream = pino.destination({ dest: 1, sync: false, maxLength: MAX_LOG_BUFFER, contentMode: 'buffer' });
  // sonic-boom's types name only strings; in buffer mode it takes Buffers.
  return { write: (line: string) => void stream.write(Buffer.from(line, 'utf8') as unknown as string) };
}
