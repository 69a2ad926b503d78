/**
 * Live sources: each is one webhook URL of one platform with its own secret, and the counters the
 * ingestion monitor shows. Counters are updated after the events are stored, so they never claim
 * more than was kept.
 */
import { randomBytes } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { type SourceCredentials, WEBHOOK_CONNECTORS, webhookConnector } from '../connectors/webhooks.ts';
import type { Store } from '../store/db.ts';
import type { Database, SourcesTable } from '../store/schema.ts';
import { rejectOrigin } from './origins.ts';

export type Source = Omit<SourcesTable, 'accepted' | 'duplicates' | 'rejected' | 'bad_signatures'> & {
  accepted: number;
  duplicates: number;
  rejected: number;
  bad_signatures: number;
};

export { isLiveOrigin, rejectOrigin } from './origins.ts';

export async function addSource(
  store: Store,
  o: { platform: string; name: string; secret?: string; options?: Record<string, string> },
): Promise<Source> {
  const connector = webhookConnector(o.platform);
  if (!connector)
    throw new Error(
      `unknown platform "${o.platform}"; expected one of: ${Object.keys(WEBHOOK_CONNECTORS).join(', ')}`,
    );
  if (connector.live === false)
    throw new Error(`${o.platform} is file import only (${connector.verification}): use cspulse import`);
  if (!o.name.trim()) throw new Error('--name must not be empty');
  const options = o.options ?? {};
  const known = connector.options ?? [];
  for (const name of Object.keys(options))
    if (!known.some((k) => k.name === name))
      throw new Error(
        `--option ${name}: ${o.platform} takes ${known.length ? known.map((k) => k.name).join(', ') : 'no options'}`,
      );
  for (const k of known)
    if (k.required && !options[k.name])
      throw new Error(`--option ${k.name}=… is required for ${o.platform}: ${k.help.en}`);
  const id = `${o.platform}-${randomBytes(6).toString('hex')}`;
  // A source is never open: without a given secret, one is made (and printed once).
  const secret = o.secret || randomBytes(24).toString('base64url');
  await store.db
    .insertInto('sources')
    .values({
      id,
      platform: o.platform,
      name: o.name.trim(),
      secret,
      options: Object.keys(options).length ? JSON.stringify(options) : null,
      created_at: Date.now(),
      last_event_at: null,
    })
    .execute();
  return (await findSource(store, id))!;
}

export function sourceCredentials(s: Pick<Source, 'secret' | 'options'>): SourceCredentials {
  return { secret: s.secret, options: s.options ? (JSON.parse(s.options) as Record<string, string>) : {} };
}

export async function findSource(store: Store, id: string): Promise<Source | undefined> {
  return (await store.db.selectFrom('sources').selectAll().where('id', '=', id).executeTakeFirst()) as
    | Source
    | undefined;
}

export async function listSources(store: Store): Promise<Source[]> {
  return (await store.db.selectFrom('sources').selectAll().orderBy('created_at').execute()) as Source[];
}

export async function countActivity(
  db: Kysely<Database>,
  sourceId: string,
  n: { accepted: number; duplicates: number; rejected: number; badSignature?: boolean },
  lastEventAt: number | null,
): Promise<void> {
  await db
    .updateTable('sources')
    .set({
      accepted: sql`accepted + ${n.accepted}`,
      duplicates: sql`duplicates + ${n.duplicates}`,
      rejected: sql`rejected + ${n.rejected}`,
      bad_signatures: sql`bad_signatures + ${n.badSignature ? 1 : 0}`,
      ...(lastEventAt !== null
        ? {
            last_event_at: sql`case when last_event_at is null or last_event_at < ${lastEventAt} then ${lastEventAt} else last_event_at end`,
          }
        : {}),
    })
    .where('id', '=', sourceId)
    .execute();
}

export interface SourceStatus {
  id: string;
  platform: string;
  name: string;
  webhook: string;
  accepted: number;
  duplicates: number;
  rejected: number;
  badSignatures: number;
  lastEventAt: string | null;
  /** Events accepted per second over the last minute, as the running server counted them; null outside it. */
  eventsPerSecond: number | null;
  /** The most frequent reject reasons, most frequent first. */
  rejectReasons: { reason: string; count: number }[];
  /**
   * Agent and bot accounts this source has sent that no roster agent claims (at most 50; merge
   * them with `cspulse roster import` or `cspulse agents merge`).
   */
  unknownAccounts: { channel: string; account: string; name: string | null }[];
  /** Pull sources (微信客服): per stream, where the pull has read to and its last failure. */
  pull: {
    stream: string;
    cursor: string | null;
    pages: number;
    updatedAt: string;
    lastError: string | null;
  }[];
}

export async function sourceStatus(
  store: Store,
  rate: (sourceId: string) => number | null = () => null,
): Promise<SourceStatus[]> {
  const out: SourceStatus[] = [];
  for (const s of await listSources(store)) {
    const reasons = await store.db
      .selectFrom('rejects')
      .select((eb) => ['reason', eb.fn.countAll<number>().as('count')])
      .where('file', '=', rejectOrigin(s.id))
      .groupBy('reason')
      .orderBy('count', 'desc')
      .limit(10)
      .execute();
    out.push({
      id: s.id,
      platform: s.platform,
      name: s.name,
      webhook: webhookPath(s.id),
      accepted: Number(s.accepted),
      duplicates: Number(s.duplicates),
      rejected: Number(s.rejected),
      badSignatures: Number(s.bad_signatures),
      lastEventAt: s.last_event_at === null ? null : new Date(Number(s.last_event_at)).toISOString(),
      eventsPerSecond: rate(s.id),
      rejectReasons: reasons.map((r) => ({ reason: r.reason, count: Number(r.count) })),
      unknownAccounts: await unknownAccounts(store, s.id),
      pull: (
        await store.db
          .selectFrom('pull_cursors')
          .selectAll()
          .where('source_id', '=', s.id)
          .orderBy('stream')
          .execute()
      ).map((c) => ({
        stream: c.stream,
        cursor: c.cursor,
        pages: Number(c.pages),
        updatedAt: new Date(Number(c.updated_at)).toISOString(),
        lastError: c.last_error,
      })),
    });
  }
  return out;
}

export const webhookPath = (sourceId: string) => `/ingest/${sourceId}`;

/** A source's accounts that no roster agent claims, by the same lookup as identities.ts. */
async function unknownAccounts(store: Store, sourceId: string): Promise<SourceStatus['unknownAccounts']> {
  const rows = await sql<{ channel: string; account: string; account_name: string | null }>`
    select sa.channel, sa.account, sa.account_name from source_accounts sa
    where sa.source_id = ${sourceId}
      and not exists (
        select 1 from agent_accounts aa join agents a on a.id = aa.agent_id
        where aa.account = sa.account
          and (aa.platform = sa.channel or aa.platform = '*'
            or substr(sa.channel, 1, length(aa.platform) + 1) = aa.platform || '_')
          and a.on_roster = 1)
    order by sa.first_seen, sa.channel, sa.account
    limit 50`.execute(store.db);
  return rows.rows.map((r) => ({ channel: r.channel, account: r.account, name: r.account_name }));
}

/**
 * The agent and bot accounts of a webhook's accepted events that this process has not yet
 * recorded for the source. Remembered per process, so a known account costs no write.
 */
export class SeenAccounts {
  private seen = new Set<string>();

  fresh(
    sourceId: string,
    events: readonly unknown[],
    outcomes: readonly string[],
  ): { channel: string; account: string; name: string | null }[] {
    const out: { channel: string; account: string; name: string | null }[] = [];
    events.forEach((raw, i) => {
      if (outcomes[i] === 'rejected' || typeof raw !== 'object' || raw === null) return;
      const e = raw as Record<string, unknown>;
      const agentSide =
        (e.kind === 'message' && (e.role === 'agent' || e.role === 'bot')) ||
        e.kind === 'assignment' ||
        e.kind === 'ticket' ||
        e.kind === 'presence';
      if (!agentSide || typeof e.account !== 'string' || typeof e.channel !== 'string') return;
      const key = `${sourceId}\u0000${e.channel}\u0000${e.account}`;
      if (this.seen.has(key)) return;
      this.seen.add(key);
      out.push({
        channel: e.channel,
        account: e.account,
        name: typeof e.accountName === 'string' ? e.accountName : null,
      });
    });
    return out;
  }

  forget(sourceId: string, rows: readonly { channel: string; account: string }[]): void {
    for (const r of rows) this.seen.delete(`${sourceId}\u0000${r.channel}\u0000${r.account}`);
  }
}

export async function recordSourceAccounts(
  db: Kysely<Database>,
  sourceId: string,
  rows: readonly { channel: string; account: string; name: string | null }[],
): Promise<void> {
  if (!rows.length) return;
  const now = Date.now();
  await db
    .insertInto('source_accounts')
    .values(
      rows.map((r) => ({
        source_id: sourceId,
        channel: r.channel,
        account: r.account,
        account_name: r.name,
        first_seen: now,
      })),
    )
    .onConflict((oc) => oc.columns(['source_id', 'channel', 'account']).doNothing())
    .execute();
}
