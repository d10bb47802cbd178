import { defineConfig } from 'drizzle-kit';

// Used only to generate SQL migrations from the schema; the gateway applies them itself.
export default defineConfig({
  dialect: 'sqlite',
  schema: './src/db/schema.ts',
  out: './migrations',
});
