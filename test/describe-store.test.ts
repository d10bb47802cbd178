import { describe, expect, it } from 'vitest';
import { describeStore } from '../src/db/open.js';

const where = (databaseUrl: string | null) =>
  describeStore({
    databasePath: '/var/lib/gateway/gateway.db',
    databaseUrl,
    databasePoolSize: 10,
    instanceId: 'a',
  });

describe('where the data lives, as logged', () => {
  it('names the SQLite file', () => {
    expect(where(null)).toBe('/var/lib/gateway/gateway.db');
  });

  it.each([
    ['postgres://gw:s3cret-pw@db.internal:6432/gateway', 'postgres db.internal:6432/gateway'],
    ['postgres://gw@db.internal/gateway?password=s3cret-pw', 'postgres db.internal:5432/gateway'],
    [
      'postgresql://db.internal/gateway?user=gw&password=s3cret-pw&sslpassword=s3cret-pw',
      'postgres db.internal:5432/gateway',
    ],
    ['postgres://gw:s3cret-pw@/gateway?host=/run/postgresql', 'postgres /run/postgresql:5432/gateway'],
    ['postgres://s3cret-pw@db.internal', 'postgres db.internal:5432/(default database)'],
    [
      'postgres://gw:s3cret-pw@db.internal:5432/gateway?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem',
      'postgres db.internal:5432/gateway',
    ],
    ['not a url s3cret-pw', 'postgres (unparsable URL)'],
  ])('%s: host, port and database only', (url, logged) => {
    expect(where(url)).toBe(logged);
    expect(where(url)).not.toContain('s3cret');
    expect(where(url)).not.toContain('gw@');
  });
});
