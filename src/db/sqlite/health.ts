import type { Db } from './connection.js';

/** Takes and releases the write lock: proves the database can accept the next transaction. */
export function checkWritable(db: Db): void {
  db.transaction(() => undefined, { behavior: 'immediate' });
}
