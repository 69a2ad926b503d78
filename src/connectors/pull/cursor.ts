/** Pull cursors in the database, so a pull resumes where it stopped, across restarts. */
import { sql } from 'kysely';
import type { Store } from '../../store/db.ts';

export interface CursorRow {
  cursor: string | null;
  pages: number;
  updatedAt: number;
  lastError: string | null;
}

export async function loadCursor(store: Store, sourceId: string, stream: string): Promise<CursorRow | null> {
  const row = await store.db
    .selectFrom('pull_cursors')
    .selectAll()
    .where('source_id', '=', sourceId)
    .where('stream', '=', stream)
    .executeTakeFirst();
  return row
    ? {
        cursor: row.cursor,
        pages: Number(row.pages),
        updatedAt: Number(row.updated_at),
        lastError: row.last_error,
      }
    : null;
}

/** After a page's events are stored: move the cursor past it. */
export async function saveCursor(store: Store, sourceId: string, stream: string, cursor: string | null) {
  const now = Date.now();
  await store.db
    .insertInto('pull_cursors')
    .values({ source_id: sourceId, stream, cursor, pages: 1, updated_at: now, last_error: null })
    .onConflict((oc) =>
      oc.columns(['source_id', 'stream']).doUpdateSet({
        cursor,
        pages: sql`pull_cursors.pages + 1`,
        updated_at: now,
        last_error: null,
      }),
    )
    .execute();
}

/** A failed pass: the cursor stays where it was; the monitor shows why. */
export async function recordPullError(store: Store, sourceId: string, stream: string, error: string) {
  const now = Date.now();
  const last_error = error.slice(0, 1000);
  await store.db
    .insertInto('pull_cursors')
    .values({ source_id: sourceId, stream, cursor: null, pages: 0, updated_at: now, last_error })
    .onConflict((oc) => oc.columns(['source_id', 'stream']).doUpdateSet({ updated_at: now, last_error }))
    .execute();
}
