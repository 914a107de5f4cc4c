import { defineConfig } from 'drizzle-kit';

// Only `npm run db:generate` uses this; it diffs src/db/schema.ts against drizzle/ offline, so no URL.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './drizzle',
});
