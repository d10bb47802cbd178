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

const FILLER = 'disk-filler';
type Sqlite = Storage['sqlite'];

/**
 * Makes a real SQLite file "full", portably: the file may not grow (`max_page_count`), and the
 * append-only tables' last pages are packed with marked rows, so that every append fails with
 * SQLITE_FULL as on a full disk (an update in place may still fit, as it would there too).
 */
export function fillDisk(sqlite: Sqlite): void {
  const pages = sqlite.pragma('page_count', { simple: true }) as number;
  sqlite.pragma(`max_page_count = ${pages}`);
  const anyTransaction = sqlite.prepare('select transaction_number as n from transactions limit 1').get() as
    | { n: string }
    | undefined;
  const inserts = [
    sqlite.prepare(
      `insert into supplier_calls (operation, method, url, outcome, started_at, duration_ms, error) values ('${FILLER}', 'GET', '', 'x', 0, 0, ?)`,
    ),
    sqlite.prepare(
      `insert into razer_exchanges (endpoint, api_id, method, path, request_hash, request_body, response_status, response_headers, response_body, received_at, responded_at) values ('${FILLER}', '', '', '', '', ?, 0, '{}', '', 0, 0)`,
    ),
    sqlite.prepare(
      `insert into webhook_inbox (received_at, source_ip, headers, body, body_sha256, kind, processed_at) values (0, '', '{}', ?, '', '${FILLER}', 0)`,
    ),
    ...(anyTransaction
      ? [
          sqlite.prepare(
            `insert into transaction_events (transaction_number, from_state, to_state, cause, at, detail) values ('${anyTransaction.n.replaceAll("'", "''")}', 'QUEUED', 'QUEUED', 'operator', 0, '${FILLER}' || ?)`,
          ),
        ]
      : []),
  ];
  for (const insert of inserts) {
    for (const size of [4096, 1024, 256, 64, 16, 4, 1, 0]) {
      try {
        for (;;) insert.run('x'.repeat(size));
      } catch (err) {
        if ((err as { code?: string }).code !== 'SQLITE_FULL') throw err;
      }
    }
  }
}

/** The disk has room again: the limit is lifted and the marked rows go. */
export function freeDisk(sqlite: Sqlite): void {
  sqlite.pragma('max_page_count = 1073741823');
  sqlite.exec(`
    delete from supplier_calls where operation = '${FILLER}';
    delete from razer_exchanges where endpoint = '${FILLER}';
    delete from webhook_inbox where kind = '${FILLER}';
    delete from transaction_events where detail like '${FILLER}%';
  `);
}
