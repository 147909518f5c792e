import { defineConfig } from 'prisma/config';

// Prisma 7 keeps the connection string out of schema.prisma. Only the CLI reads this file; its
// migrate commands need a session (advisory lock), so a direct URL comes first (DATABASE_URL may be
// a transaction pooler).
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DIRECT_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/agenda' },
});
