/**
 * One set of migrations for SQLite and PostgreSQL, written with Kysely's schema builder.
 * Append new migrations; never edit a released one.
 */
import { type Kysely, type Migration, type MigrationProvider, Migrator, SqliteAdapter, sql } from 'kysely';

type Builder = ReturnType<Kysely<unknown>['schema']['createTable']>;

/** The local calendar keys every fact carries, so reports group without timezone maths. */
function localKeys(t: Builder): Builder {
  return t
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('week', 'text', (c) => c.notNull())
    .addColumn('month', 'text', (c) => c.notNull())
    .addColumn('hour', 'integer', (c) => c.notNull())
    .addColumn('weekday', 'integer', (c) => c.notNull());
}

/** Columns of facts that are part of a conversation and credited to one agent (segments, responses). */
function partOfConversation(t: Builder): Builder {
  return t
    .addColumn('conversation_id', 'text', (c) => c.notNull())
    .addColumn('thread', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('agent_id', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('region', 'text');
}

const migrations: Record<string, Migration> = {
  '001_initial': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('settings')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('doc', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('events')
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('ext_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('ts', 'bigint', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('thread', 'text', (c) => c.notNull())
        .addColumn('customer_id', 'text')
        .addColumn('account', 'text')
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('events_pk', ['source', 'ext_id'])
        .execute();
      // One secondary index only: each one more costs import speed (measured: 95k → 34k rows/s with three).
      await db.schema.createIndex('events_thread').on('events').column('thread').execute();

      // Which customer a thread belongs to: the customer pass finds all of a customer's threads here.
      await db.schema
        .createTable('threads')
        .addColumn('thread', 'text', (c) => c.primaryKey())
        .addColumn('customer_id', 'text')
        .execute();
      await db.schema.createIndex('threads_customer').on('threads').column('customer_id').execute();

      await db.schema
        .createTable('dirty_threads')
        .addColumn('thread', 'text', (c) => c.primaryKey())
        .execute();

      await db.schema
        .createTable('rejects')
        .addColumn('file', 'text', (c) => c.notNull())
        .addColumn('line', 'integer', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('raw', 'text')
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('rejects_pk', ['file', 'line'])
        .execute();

      await db.schema
        .createTable('agents')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('employee_no', 'text')
        .addColumn('group_name', 'text')
        .addColumn('on_roster', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('agent_accounts')
        .addColumn('platform', 'text', (c) => c.notNull())
        .addColumn('account', 'text', (c) => c.notNull())
        .addColumn('agent_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('agent_accounts_pk', ['platform', 'account'])
        .execute();
      await db.schema.createIndex('agent_accounts_agent').on('agent_accounts').column('agent_id').execute();

      await localKeys(
        db.schema
          .createTable('conversations')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('thread', 'text', (c) => c.notNull())
          .addColumn('channel', 'text', (c) => c.notNull())
          .addColumn('customer_id', 'text')
          .addColumn('region', 'text')
          .addColumn('native_id', 'text')
          .addColumn('start_ts', 'bigint', (c) => c.notNull())
          .addColumn('end_ts', 'bigint', (c) => c.notNull())
          .addColumn('first_customer_ts', 'bigint')
          .addColumn('agent_id', 'text')
          .addColumn('frt_agent_id', 'text')
          .addColumn('has_customer', 'integer', (c) => c.notNull())
          .addColumn('invalid', 'integer', (c) => c.notNull())
          .addColumn('missed', 'integer', (c) => c.notNull())
          .addColumn('offline', 'integer', (c) => c.notNull())
          .addColumn('closed', 'integer', (c) => c.notNull())
          .addColumn('platform_resolved', 'integer')
          .addColumn('human_replied', 'integer', (c) => c.notNull())
          .addColumn('human_segments', 'integer', (c) => c.notNull())
          .addColumn('rating', 'double precision')
          .addColumn('wait_ms', 'bigint')
          .addColumn('wait_bh_ms', 'bigint')
          .addColumn('frt_ms', 'bigint')
          .addColumn('frt_bh_ms', 'bigint')
          .addColumn('cfrt_ms', 'bigint')
          .addColumn('cfrt_bh_ms', 'bigint')
          .addColumn('bot_answered', 'integer', (c) => c.notNull())
          .addColumn('bot_handoff', 'integer', (c) => c.notNull())
          .addColumn('messages_in', 'integer', (c) => c.notNull())
          .addColumn('messages_out', 'integer', (c) => c.notNull())
          .addColumn('next_conv_ts', 'bigint')
          .addColumn('converted', 'integer', (c) => c.notNull())
          .addColumn('inquired', 'integer', (c) => c.notNull())
          .addColumn('order_amount', 'double precision', (c) => c.notNull()),
      ).execute();
      await db.schema.createIndex('conversations_thread').on('conversations').column('thread').execute();

      await localKeys(
        db.schema
          .createTable('segments')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .$call(partOfConversation)
          .addColumn('start_ts', 'bigint', (c) => c.notNull())
          .addColumn('end_ts', 'bigint', (c) => c.notNull())
          .addColumn('ended_by', 'text', (c) => c.notNull())
          .addColumn('valid', 'integer', (c) => c.notNull())
          .addColumn('invalid', 'integer', (c) => c.notNull())
          .addColumn('messages_in', 'integer', (c) => c.notNull())
          .addColumn('messages_out', 'integer', (c) => c.notNull())
          .addColumn('handle_ms', 'bigint', (c) => c.notNull())
          .addColumn('handle_bh_ms', 'bigint', (c) => c.notNull())
          .addColumn('w_received', 'double precision', (c) => c.notNull())
          .addColumn('w_valid', 'double precision', (c) => c.notNull()),
      ).execute();
      await db.schema.createIndex('segments_thread').on('segments').column('thread').execute();

      await localKeys(
        db.schema
          .createTable('responses')
          .$call(partOfConversation)
          .addColumn('customer_ts', 'bigint', (c) => c.notNull())
          .addColumn('reply_ts', 'bigint', (c) => c.notNull())
          .addColumn('ms', 'bigint', (c) => c.notNull())
          .addColumn('bh_ms', 'bigint', (c) => c.notNull()),
      ).execute();
      await db.schema.createIndex('responses_thread').on('responses').column('thread').execute();

      await db.schema
        .createTable('conversation_tags')
        .addColumn('conversation_id', 'text', (c) => c.notNull())
        .addColumn('thread', 'text', (c) => c.notNull())
        .addColumn('tag', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('conversation_tags_thread')
        .on('conversation_tags')
        .column('thread')
        .execute();
      await db.schema.createIndex('conversation_tags_tag').on('conversation_tags').column('tag').execute();

      await localKeys(
        db.schema
          .createTable('tickets')
          .addColumn('thread', 'text', (c) => c.primaryKey())
          .addColumn('ticket_id', 'text', (c) => c.notNull())
          .addColumn('channel', 'text', (c) => c.notNull())
          .addColumn('customer_id', 'text')
          .addColumn('region', 'text')
          .addColumn('category', 'text')
          .addColumn('agent_id', 'text')
          .addColumn('created_ts', 'bigint', (c) => c.notNull())
          .addColumn('resolved_ts', 'bigint')
          .addColumn('due_ts', 'bigint')
          .addColumn('escalated', 'integer', (c) => c.notNull())
          .addColumn('repeat', 'integer', (c) => c.notNull()),
      ).execute();
    },
  },
};

migrations['002_rollup_state'] = {
  async up(db: Kysely<unknown>) {
    // The rollup tables themselves are made from the measure queries (src/metrics/rollups.ts).
    await db.schema
      .createTable('rollup_state')
      .addColumn('signature', 'text', (c) => c.notNull())
      .addColumn('built_at', 'bigint', (c) => c.notNull())
      .execute();
  },
};

migrations['003_event_blocks'] = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('event_ids')
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('ext_id', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('event_ids_pk', ['source', 'ext_id'])
      // On SQLite the key is the table (one B-tree, not a table and its index): half the insert cost.
      .$call((t) => (isSqlite(db) ? t.modifyEnd(sql`without rowid`) : t))
      .execute();
    await db.schema
      .createTable('event_blocks')
      // A handle on each block, so that compacting a thread's blocks deletes exactly those it merged
      // and never one a concurrent writer has just added. On SQLite it is the rowid: free.
      .addColumn('id', isSqlite(db) ? 'integer' : 'bigserial', (c) => c.primaryKey())
      .addColumn('thread', 'text', (c) => c.notNull())
      .addColumn('events', 'text', (c) => c.notNull())
      .addColumn('received_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('event_blocks_thread').on('event_blocks').column('thread').execute();
    // Events accepted before: one block each, so nothing is re-derived and nothing is lost.
    await sql`insert into event_ids (source, ext_id) select source, ext_id from events`.execute(db);
    await sql`insert into event_blocks (thread, events, received_at)
      select thread, '[' || payload || ']', received_at from events`.execute(db);
    await db.schema.dropTable('events').execute();
  },
};

migrations['004_sources'] = {
  async up(db: Kysely<unknown>) {
    // Live sources (webhooks): who may post, the secret that proves it, and the monitor's counters.
    await db.schema
      .createTable('sources')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('platform', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('secret', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('accepted', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('duplicates', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('rejected', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('bad_signatures', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('last_event_at', 'bigint')
      .execute();
  },
};

migrations['005_source_options'] = {
  async up(db: Kysely<unknown>) {
    // Platforms prove and seal their requests with more than one secret (WeCom: token + AES key +
    // corp id; WhatsApp: app secret + verify token): the others, as a JSON object.
    await db.schema.alterTable('sources').addColumn('options', 'text').execute();
  },
};

migrations['006_templates_schedules'] = {
  async up(db: Kysely<unknown>) {
    // Report templates (src/outputs/templates.ts): one validated JSON document each.
    await db.schema
      .createTable('report_templates')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('doc', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    // Scheduled delivery (src/delivery): recipients hold env var names, never secrets.
    await db.schema
      .createTable('schedules')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('cron', 'text', (c) => c.notNull())
      .addColumn('template', 'text', (c) => c.notNull())
      .addColumn('period', 'text', (c) => c.notNull())
      .addColumn('formats', 'text', (c) => c.notNull())
      .addColumn('recipients', 'text', (c) => c.notNull())
      .addColumn('viewer', 'text')
      .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    // One row per schedule and period: its primary key is what makes a run happen exactly once
    // however many processes race to claim it.
    await db.schema
      .createTable('schedule_runs')
      .addColumn('run_key', 'text', (c) => c.primaryKey())
      .addColumn('schedule_id', 'text', (c) => c.notNull())
      .addColumn('fire_at', 'bigint', (c) => c.notNull())
      .addColumn('period_from', 'text', (c) => c.notNull())
      .addColumn('period_to', 'text', (c) => c.notNull())
      .addColumn('period_label', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('claimed_by', 'text')
      .addColumn('lease_until', 'bigint')
      .addColumn('next_attempt_at', 'bigint')
      .addColumn('started_at', 'bigint', (c) => c.notNull())
      .addColumn('finished_at', 'bigint')
      .addColumn('delivered', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('files', 'text')
      .addColumn('error', 'text')
      .addColumn('log', 'text', (c) => c.notNull().defaultTo('[]'))
      .execute();
    await db.schema
      .createIndex('schedule_runs_schedule')
      .on('schedule_runs')
      .columns(['schedule_id', 'fire_at'])
      .execute();
  },
};

migrations['007_pull_cursors'] = {
  async up(db: Kysely<unknown>) {
    // Pull connectors (src/connectors/pull): where each stream of a source has read up to. Saved
    // only after the page's events are stored, so a crash re-reads a page and never skips one.
    await db.schema
      .createTable('pull_cursors')
      .addColumn('source_id', 'text', (c) => c.notNull())
      .addColumn('stream', 'text', (c) => c.notNull())
      .addColumn('cursor', 'text')
      .addColumn('pages', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('last_error', 'text')
      .addPrimaryKeyConstraint('pull_cursors_pk', ['source_id', 'stream'])
      .execute();
  },
};

migrations['008_mappings'] = {
  async up(db: Kysely<unknown>) {
    // Saved column mappings for CSV/XLSX imports (`cspulse mappings save`): header → canonical
    // field, applied ahead of the field dictionary.
    await db.schema
      .createTable('mappings')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('columns', 'text', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    // User field dictionaries: more synonyms per platform or vendor, as data.
    await db.schema
      .createTable('field_dictionaries')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('doc', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    // Agent accounts each live source has sent, for the monitor's unknown accounts.
    await db.schema
      .createTable('source_accounts')
      .addColumn('source_id', 'text', (c) => c.notNull())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('account', 'text', (c) => c.notNull())
      .addColumn('account_name', 'text')
      .addColumn('first_seen', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('source_accounts_pk', ['source_id', 'channel', 'account'])
      .execute();
  },
};

migrations['009_rollup_stale_days'] = {
  async up(db: Kysely<unknown>) {
    // The days a fact refresh changed: the rollups rebuild those days, not every day
    // (src/metrics/rollups.ts). Each mark names the refresh, so a rebuild clears only what it read.
    await db.schema
      .createTable('rollup_stale_days')
      .addColumn('day', 'text', (c) => c.primaryKey())
      .addColumn('mark', 'text', (c) => c.notNull())
      .execute();
  },
};

migrations['010_dirty_mark_gen'] = {
  async up(db: Kysely<unknown>) {
    // Each dirty mark names the accept that set it: the fact refresh runs beside the accepts (its
    // own connection, src/server/refresh-worker.ts) and clears only the marks it read, never one
    // an accept set again meanwhile.
    await db.schema
      .alterTable('dirty_threads')
      .addColumn('gen', 'bigint', (c) => c.notNull().defaultTo(0))
      .execute();
    // Blocks are only appended, so the live refresh reads only those above the last id it read
    // (src/ingest/live-threads.ts). Whatever deletes blocks (a merge, a hand-made fix) bumps this
    // count, from any connection, and the refresh reads every thread whole again. SQLite only:
    // the live refresh keeps no threads on PostgreSQL.
    await db.schema
      .createTable('event_blocks_epoch')
      .addColumn('n', 'integer', (c) => c.notNull())
      .execute();
    await sql`insert into event_blocks_epoch (n) values (0)`.execute(db);
    // Every swap of facts counts itself here (src/ingest/fact-swap.ts): the live refresh's memory
    // of the rows it wrote holds only while no other refresh wrote meanwhile.
    await db.schema
      .createTable('facts_epoch')
      .addColumn('n', 'bigint', (c) => c.notNull())
      .execute();
    await sql`insert into facts_epoch (n) values (0)`.execute(db);
    if (isSqlite(db))
      await sql`create trigger event_blocks_deleted after delete on event_blocks
        begin update event_blocks_epoch set n = n + 1; end`.execute(db);
  },
};

function isSqlite(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter instanceof SqliteAdapter;
}

class StaticProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations;
  }
}

/** Migrate to the latest version, or to the named one (for testing the step after it). */
export async function migrate(db: Kysely<unknown>, upTo?: string): Promise<void> {
  const migrator = new Migrator({ db, provider: new StaticProvider() });
  const { error, results } = upTo ? await migrator.migrateTo(upTo) : await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${String(error)}`);
  }
}
