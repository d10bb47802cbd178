import type { Logger } from '../log.js';
import { loadMappingFile, type Mapping, type SkuMapping } from './mapping.js';
import { watchFile } from './watched-file.js';

export interface MappingStore {
  current(): Mapping;
  sku(sku: string): SkuMapping | undefined;
  /** Re-reads the file; a bad edit keeps the running mapping and says why. */
  reload(): { ok: true; skus: number } | { ok: false; errors: string[] };
  watch(intervalMs?: number): void;
  close(): void;
}

export function createMappingStore(file: string, initial: Mapping, logger: Logger): MappingStore {
  const watched = watchFile(file, initial, logger, {
    name: 'mapping',
    load: (f) => {
      const r = loadMappingFile(f);
      return r.ok ? { ok: true, value: r.mapping } : r;
    },
    summary: (m) => ({ skus: [...m.skus.keys()] }),
  });
  return {
    current: watched.current,
    sku: (sku) => watched.current().skus.get(sku),
    reload() {
      const r = watched.reload();
      return r.ok ? { ok: true, skus: r.value.skus.size } : r;
    },
    watch: watched.watch,
    close: watched.close,
  };
}
