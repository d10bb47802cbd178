import { unwatchFile, watchFile } from 'node:fs';
import type { Logger } from '../log.js';
import { loadMappingFile, type Mapping, type SkuMapping } from './mapping.js';

export interface MappingStore {
  current(): Mapping;
  sku(sku: string): SkuMapping | undefined;
  /** Re-reads the file; a bad edit keeps the running mapping and says why. */
  reload(): { ok: true; skus: number } | { ok: false; errors: string[] };
  watch(): void;
  close(): void;
}

export function createMappingStore(file: string, initial: Mapping, logger: Logger): MappingStore {
  let mapping = initial;
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
    watch() {
      // Polling survives editors that replace the file (rename) where fs.watch loses track.
      watchFile(file, { interval: 1000 }, (now, before) => {
        if (now.mtimeMs !== before.mtimeMs || now.size !== before.size) store.reload();
      });
    },
    close: () => unwatchFile(file),
  };
  return store;
}
