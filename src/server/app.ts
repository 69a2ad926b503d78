/**
 * The HTTP server (`cspulse serve`): webhooks in, the ingestion monitor and reports out.
 * Every route is a Fastify plugin; the store and the single writer are shared by all.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { sourceStatus } from '../ingest/sources.ts';
import type { Dimension } from '../metrics/queries/scope.ts';
import { runReport } from '../metrics/report.ts';
import type { Store } from '../store/db.ts';
import { exportDir, signerFromEnv } from '../delivery/links.ts';
import { fileRoutes } from './files.ts';
import { ingestRoutes, RateMeter } from './ingest.ts';
import { type LiveWriter, Writer } from './writer.ts';
import { ThreadWriter } from './writer-thread.ts';

export interface ServerOptions {
  /** Largest accepted body; platforms send far less (WhatsApp batches stay under 100 KB). */
  bodyLimit?: number;
  /** Requests waiting for the writer above which webhooks get 503 + Retry-After. */
  maxPending?: number;
  /** The shortest wait between an accept and the fact refresh that shows it (ms). */
  refreshDelayMs?: number;
  /** An accepted event shows in reports within this (ms); refreshes are spaced to keep it. */
  visibleWithinMs?: number;
  /**
   * The store again, as a SQLite path or postgres:// URL, for a writer in its own thread (what
   * `cspulse serve` runs) when the store is SQLite. Otherwise the writer shares the HTTP thread
   * and `store`.
   */
  writerTarget?: string;
  /** Facts refreshed this recently count as changing: reports read them, not the rollups (ms). */
  liveWindowMs?: number;
  logger?: boolean;
  /** Where the file links' settings come from (CSPULSE_FILES_SECRET, CSPULSE_EXPORT_DIR); default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface Server {
  app: FastifyInstance;
  writer: LiveWriter;
  /** Stop taking requests, finish the writes in hand, refresh the facts. The store stays open. */
  close(): Promise<void>;
}

export async function buildServer(store: Store, o: ServerOptions = {}): Promise<Server> {
  const app = Fastify({
    bodyLimit: o.bodyLimit ?? 1_048_576,
    logger: o.logger ?? false,
  });
  const policy = { refreshDelayMs: o.refreshDelayMs, visibleWithinMs: o.visibleWithinMs };
  // SQLite's driver runs each statement on the calling thread: a writer thread takes the database
  // work off the HTTP thread. PostgreSQL's runs on the server, the HTTP thread only waits; there a
  // writer thread cost more CPU an event than it freed (bench/RESULTS.md, 2026-12-03).
  const writer: LiveWriter =
    o.writerTarget && store.dialect === 'sqlite'
      ? await ThreadWriter.start(o.writerTarget, policy)
      : new Writer(store, policy);
  const rate = new RateMeter();

  await app.register(async (scope) =>
    ingestRoutes(scope, { store, writer, maxPending: o.maxPending ?? 256, rate }),
  );

  const env = o.env ?? process.env;
  await app.register(async (scope) => fileRoutes(scope, { signer: signerFromEnv(env, exportDir(env)) }));

  app.get('/healthz', async (_req, reply) => {
    const refresh = writer.refreshStats();
    // A supervisor restarts a server whose writer is gone: every webhook would fail.
    if (writer.failure) reply.code(503);
    return {
      ok: !writer.failure,
      writerError: writer.failure ?? null,
      refreshError: refresh.lastError,
      refresh,
    };
  });

  app.get('/api/sources', async () => ({ sources: await sourceStatus(store, (id) => rate.perSecond(id)) }));

  app.get<{ Querystring: { from?: string; to?: string; by?: string; metrics?: string } }>(
    '/api/report',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: {
            from: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
            to: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
            by: { type: 'string' },
            metrics: { type: 'string' },
          },
          additionalProperties: false,
        },
      },
    },
    async (req, reply) => {
      const split = (v?: string) =>
        v
          ? v
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean)
          : undefined;
      try {
        // While webhooks keep changing the facts, the daily rollups would be rebuilt whole for
        // each report and discarded by the next refresh: read the facts instead.
        const last = writer.refreshStats().lastAt;
        const live = last !== null && Date.now() - last < (o.liveWindowMs ?? 10_000);
        // Never beside a fact refresh: see gate.ts.
        return await writer.read(() =>
          runReport(store, {
            useRollups: !live,
            from: req.query.from,
            to: req.query.to,
            by: split(req.query.by) as Dimension[] | undefined,
            metrics: split(req.query.metrics),
          }),
        );
      } catch (e) {
        return reply.code(400).send({ error: (e as Error).message });
      }
    },
  );

  return {
    app,
    writer,
    async close() {
      await app.close();
      await writer.close();
    },
  };
}
