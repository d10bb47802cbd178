import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrateStorage, openStorage, type Storage } from '../../src/db/connection.js';

export interface TempDir {
  path: string;
  file(name: string): string;
  remove(): void;
}

export function tempDir(prefix = 'gateway-test-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    file: (name) => join(path, name),
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}

/** A migrated database in a real file (WAL needs one), removed by `close`. */
export function tempStorage(): Storage & { path: string } {
  const dir = tempDir();
  const path = dir.file('gateway.db');
  const storage = openStorage(path);
  migrateStorage(storage);
  return {
    ...storage,
    path,
    close() {
      storage.close();
      dir.remove();
    },
  };
}
