/**
 * `POST /ingest/:sourceId`: a platform's webhook. The order of the checks is the promise:
 * refuse when saturated before reading anything (503 + Retry-After), 404 for an unknown source,
 * 401 for a bad signature (recorded, never stored as data), 400 for a body that is not JSON, and
 * 200 only once the events are durably stored. A platform's retry of the same body is a
 * duplicate and changes nothing.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type WebhookReply, type WebhookRequest, webhookConnector } from '../connectors/webhooks.ts';
import { safeRaw } from '../ingest/pipeline.ts';
import {
  findSource,
  recordSourceAccounts,
  rejectOrigin,
  SeenAccounts,
  type Source,
  sourceCredentials,
} from '../ingest/sources.ts';
import type { Store } from '../store/db.ts';
import { getOrInsert } from '../util/maps.ts';
import type { LiveWriter } from './writer.ts';

export interface IngestOptions {
  store: Store;
  writer: LiveWriter;
  /** Requests waiting to be written above which new ones are refused. */
  maxPending: number;
  rate: RateMeter;
}

/** Events accepted per source over the last minute, for the monitor. */
export class RateMeter {
  private buckets = new Map<string, { second: number; count: number }[]>();

  add(sourceId: string, n: number, now = Date.now()): void {
    const second = Math.floor(now / 1000);
    const list = getOrInsert(this.buckets, sourceId, () => []);
    const last = list[list.length - 1];
    if (last?.second === second) last.count += n;
    else list.push({ second, count: n });
    while (list.length && list[0]!.second <= second - 60) list.shift();
  }

  perSecond(sourceId: string, now = Date.now()): number {
    const second = Math.floor(now / 1000);
    const list = this.buckets.get(sourceId) ?? [];
    const total = list.filter((b) => b.second > second - 60).reduce((s, b) => s + b.count, 0);
    return Math.round((total / 60) * 100) / 100;
  }
}

/** Sources are read once every few seconds, not on every request; a new source is found at once. */
const SOURCE_TTL_MS = 5000;

export async function ingestRoutes(app: FastifyInstance, o: IngestOptions): Promise<void> {
  const known = new Map<string, { source: Source; at: number }>();
  const seenAccounts = new SeenAccounts();
  const lookup = async (id: string) => {
    const hit = known.get(id);
    if (hit && Date.now() - hit.at < SOURCE_TTL_MS) return hit.source;
    const source = await findSource(o.store, id);
    if (source) known.set(id, { source, at: Date.now() });
    return source;
  };
  // Signatures are over the exact bytes: every body is read raw and parsed here.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  // A callback, not an async hook: it runs for every request, and a promise each is measurable.
  app.addHook('onRequest', (req, reply, done) => {
    if (req.method === 'POST' && req.url.startsWith('/ingest/') && o.writer.pending >= o.maxPending) {
      reply.header('retry-after', '1');
      reply.code(503).send({ error: 'busy: retry later', retryAfterSeconds: 1 });
      return;
    }
    done();
  });

  const send = (reply: FastifyReply, r: WebhookReply) => {
    if (r.contentType) reply.type(r.contentType);
    return reply.code(r.status).send(r.body);
  };
  const requestOf = (req: FastifyRequest, body: Buffer): WebhookRequest => ({
    headers: req.headers,
    body,
    query: req.query as Record<string, string | undefined>,
  });

  // The platforms' URL checks (WhatsApp hub.challenge, WeCom and 公众号 echostr) come as GET.
  app.get<{ Params: { sourceId: string } }>('/ingest/:sourceId', async (req, reply) => {
    const source = await lookup(req.params.sourceId);
    const connector = source && webhookConnector(source.platform);
    if (!source || !connector) return reply.code(404).send({ error: `no source ${req.params.sourceId}` });
    if (!connector.handshake)
      return reply.code(405).send({ error: `${source.platform} webhooks are POST only` });
    const answer = connector.handshake(requestOf(req, Buffer.alloc(0)), sourceCredentials(source));
    if (answer.status === 401) await recordBadSignature(source, String(answer.body));
    return send(reply, answer);
  });

  const recordBadSignature = (source: Source, why: string) =>
    o.writer.note({
      sourceId: source.id,
      rejects: [{ file: rejectOrigin(source.id), line: 0, reason: `signature: ${why}` }],
      rejected: 0,
      badSignature: true,
    });

  app.post<{ Params: { sourceId: string } }>('/ingest/:sourceId', async (req, reply) => {
    const source = await lookup(req.params.sourceId);
    const connector = source && webhookConnector(source.platform);
    if (!source || !connector) return reply.code(404).send({ error: `no source ${req.params.sourceId}` });
    const origin = rejectOrigin(source.id);
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const request = requestOf(req, body);
    const creds = sourceCredentials(source);
    const unsigned = connector.verify(request, creds);
    if (unsigned) {
      await recordBadSignature(source, unsigned);
      return reply.code(401).send({ error: unsigned });
    }
    const opened = connector.open ? connector.open(request, creds) : openJson(body);
    if ('reply' in opened) return send(reply, opened.reply);
    if ('error' in opened) {
      await o.writer.note({
        sourceId: source.id,
        rejects: [{ file: origin, line: 0, reason: opened.error, raw: body.toString('utf8', 0, 2000) }],
        rejected: 1,
      });
      return reply.code(400).send({ error: opened.error });
    }
    const { events, rejects: parseRejects } = connector.parse(opened.doc);
    const r = await o.writer.accept(
      events.map((raw, i) => ({ line: i + 1, raw })),
      origin,
      source.id,
      parseRejects.map((p) => ({
        file: origin,
        line: 0,
        reason: `${p.at}: ${p.reason}`,
        raw: safeRaw(p.raw),
      })),
    );
    const rejects = r.rejects;
    o.rate.add(source.id, r.accepted);
    // An agent account first seen from this source, for the monitor. Outside the accept's
    // transaction: a failed write only delays the listing (the account is retried next time).
    const fresh = seenAccounts.fresh(source.id, events, r.outcomes);
    if (fresh.length)
      await recordSourceAccounts(o.store.db, source.id, fresh).catch(() =>
        seenAccounts.forget(source.id, fresh),
      );
    if (connector.ack) return send(reply, connector.ack);
    // A platform retries what it does not see acknowledged; rejects are kept, so the answer is 200.
    return {
      accepted: r.accepted,
      duplicates: r.duplicates,
      rejected: rejects.length,
      rejects: rejects.slice(0, 20).map(({ line, reason }) => ({ line, reason })),
    };
  });
}

function openJson(body: Buffer): { doc: unknown } | { error: string } {
  try {
    return { doc: JSON.parse(body.toString('utf8')) };
  } catch (e) {
    return { error: `body is not JSON: ${(e as Error).message}` };
  }
}
