import { statSync } from 'node:fs';
import type { Logger } from '../log.js';
import { loadMappingFile, type Mapping, type SkuMapping } from './mapping.js';

export interface MappingStore {
  current(): Mapping;
  sku(sku: string): SkuMapping | undefined;
  /** Re-reads the file; a bad edit keeps the running mapping and says why. */
  reload(): { ok: true; skus: number } | { ok: false; errors: string[] };
  watch(intervalMs?: number): void;
  close(): void;
}

export function createMappingStore(file: string, initial: Mapping, logger: Logger): MappingStore {
  let mapping = initial;
  let timer: NodeJS.Timeout | null = null;
  const store: MappingStore = {
    current: () => mapping,
    sku: (sku) => mapping.skus.get(sku),
    reload() {
      const result = loadMappingFile(file);
      if (!result.ok) {
        logger.error(
          { file, errors: result.errors },
          'mapping reload refused: the running mapping stays in force',
        );
        return result;
      }
      mapping = result.mapping;
      logger.info({ file, skus: [...mapping.skus.keys()] }, 'mapping reloaded');
      return { ok: true, skus: mapping.skus.size };
    },
    watch(intervalMs = 1000) {
      // Polling survives editors that replace the file (rename) where fs.watch loses track;
      // the baseline is taken now, so an edit made right after watch() is still seen.
      let seen = fingerprint(file);
      timer ??= setInterval(() => {
        const current = fingerprint(file);
        if (current === seen) return;
        seen = current;
        store.reload();
      }, intervalMs);
      timer.unref();
    },
    close: () => {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
  return store;
}

function fingerprint(file: string): string {
  try {
    const s = statSync(file);
    return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
  } catch {
    return 'missing';
  }
}
