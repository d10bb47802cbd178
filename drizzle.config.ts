import { defineConfig } from 'drizzle-kit';

// Used only to generate SQL migrations from a schema; the gateway applies them itself.
// DRIZZLE_DIALECT picks which of the two schemas: sqlite (the default) or postgres.
const dialect = process.env.DRIZZLE_DIALECT ?? 'sqlite';
if (dialect !== 'sqlite' && dialect !== 'postgres') {
  throw new Error(`DRIZZLE_DIALECT must be sqlite or postgres, got ${dialect}`);
}

export default dialect === 'postgres'
  ? defineConfig({
      dialect: 'postgresql',
      schema: './src/db/postgres/schema.ts',
      out: './migrations/postgres',
    })
  : defineConfig({
      dialect: 'sqlite',
      schema: './src/db/sqlite/schema.ts',
      out: './migrations/sqlite',
    });
