import { statSync } from 'node:fs';
import type { Logger } from '../log.js';

export type Loaded<T> = { ok: true; value: T } | { ok: false; errors: string[] };

/** A configuration file held in memory, re-read on reload or when it changes on disk. */
export interface WatchedFile<T> {
  current(): T;
  /** Re-reads the file; a bad edit keeps the running value and says why. */
  reload(): { ok: true; value: T } | { ok: false; errors: string[] };
  watch(intervalMs?: number): void;
  close(): void;
}

export interface WatchedFileOptions<T> {
  /** What the file is, for log lines: "mapping", "readings". */
  name: string;
  load: (file: string) => Loaded<T>;
  /** Log fields that say what a reload brought in force. */
  summary: (value: T) => Record<string, unknown>;
  /** Told of each reload that took effect, with what was in force before. */
  onChange?: (previous: T, next: T) => void;
}

export function watchFile<T>(
  file: string,
  initial: T,
  logger: Logger,
  options: WatchedFileOptions<T>,
): WatchedFile<T> {
  let value = initial;
  let timer: NodeJS.Timeout | null = null;
  const watched: WatchedFile<T> = {
    current: () => value,
    reload() {
      const result = options.load(file);
      if (!result.ok) {
        logger.error(
          { file, errors: result.errors },
          `${options.name} reload refused: the running ${options.name} stays in force`,
        );
        return result;
      }
      const previous = value;
      value = result.value;
      logger.info({ file, ...options.summary(value) }, `${options.name} reloaded`);
      options.onChange?.(previous, value);
      return { ok: true, value };
    },
    watch(intervalMs = 1000) {
      // Polling survives editors that replace the file (rename) where fs.watch loses track;
      // the baseline is taken now, so an edit made right after watch() is still seen. A change is
      // read once it has held for a whole poll: a file caught half-written (truncated, then
      // filled) is never what takes effect.
      let seen = fingerprint(file);
      let settling: string | null = null;
      timer ??= setInterval(() => {
        const current = fingerprint(file);
        if (current === seen) {
          settling = null;
          return;
        }
        if (settling !== current) {
          settling = current;
          return;
        }
        seen = current;
        settling = null;
        watched.reload();
      }, intervalMs);
      timer.unref();
    },
    close: () => {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
  return watched;
}

function fingerprint(file: string): string {
  try {
    const s = statSync(file);
    return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
  } catch {
    return 'missing';
  }
}
