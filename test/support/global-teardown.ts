import { Client } from 'pg';

export default async function globalTeardown(): Promise<void> {
  const run = globalThis.__testDatabase;
  if (!run) return;
  const admin = new Client({ connectionString: run.server.adminUrl });
  try {
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${run.name} WITH (FORCE)`);
  } finally {
    await admin.end().catch(() => undefined);
    await run.server.stop();
  }
}
