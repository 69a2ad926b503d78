/**
 * Table shapes, as Kysely sees them. Times are UTC epoch ms (bigint), durations ms; local calendar
 * keys (day/week/month/hour/weekday) are computed at ingest in the reporting timezone so that every
 * report groups by the same clock.
 */
import type { Generated } from 'kysely';

export interface Database {
  settings: SettingsTable;
  event_ids: EventIdsTable;
  event_blocks: EventBlocksTable;
  dirty_threads: DirtyThreadsTable;
  /** How many blocks were ever deleted (SQLite, by trigger): see migration 010. */
  event_blocks_epoch: { n: number };
  /** How many swaps of facts there were: see src/ingest/fact-swap.ts. */
  facts_epoch: { n: number };
  threads: ThreadsTable;
  rejects: RejectsTable;
  agents: AgentsTable;
  agent_accounts: AgentAccountsTable;
  conversations: ConversationsTable;
  segments: SegmentsTable;
  responses: ResponsesTable;
  conversation_tags: ConversationTagsTable;
  tickets: TicketsTable;
  rollup_state: RollupStateTable;
  rollup_stale_days: RollupStaleDaysTable;
  sources: SourcesTable;
  report_templates: ReportTemplatesTable;
  schedules: SchedulesTable;
  schedule_runs: ScheduleRunsTable;
  mappings: MappingsTable;
  field_dictionaries: FieldDictionariesTable;
  source_accounts: SourceAccountsTable;
  pull_cursors: PullCursorsTable;
}

/** A pull connector's position in one stream of a source (e.g. one 微信客服 account). */
export interface PullCursorsTable {
  source_id: string;
  /** The source's stream: an open_kfid, or '*' for all of them. */
  stream: string;
  /** The platform's next_cursor; null: from the start of what the platform keeps. */
  cursor: string | null;
  pages: Generated<number>;
  updated_at: number;
  /** The last pass's failure, cleared by a pass that succeeds. */
  last_error: string | null;
}

/** A live source: one webhook URL (`POST /ingest/<id>`) of one platform, with its counters. */
export interface SourcesTable {
  id: string;
  platform: string;
  name: string;
  secret: string | null;
  /** JSON object of the platform's other credentials (verify token, AES key…); null: none. */
  options: string | null;
  created_at: number;
  accepted: Generated<number>;
  duplicates: Generated<number>;
  rejected: Generated<number>;
  bad_signatures: Generated<number>;
  last_event_at: number | null;
}

/** Which settings the current rollups were built for; no row: they must be rebuilt. */
export interface RollupStateTable {
  signature: string;
  built_at: number;
}

/** A local day whose facts changed since the rollups were built, and the refresh that last said so. */
export interface RollupStaleDaysTable {
  day: string;
  mark: string;
}

export interface SettingsTable {
  id: number;
  doc: string;
  updated_at: number;
}

/**
 * The inbox, part 1: the identity of every accepted event. Its primary key is what makes a
 * re-sent (source, id) a duplicate; one small row per event keeps that check cheap.
 */
export interface EventIdsTable {
  source: string;
  ext_id: string;
}

/**
 * The inbox, part 2: the accepted events themselves, as JSON arrays, one row per thread per
 * accepted batch. Events are only ever read a thread at a time (to recompute its facts), so they
 * are stored that way: a row per event cost more than all the rest of an import (measured: 5 µs a
 * row in memory, 10+ µs on disk with its indexes, against ~0.5 µs an event in blocks).
 */
export interface EventBlocksTable {
  id: Generated<number>;
  /**
   * The unit of sessionising: channel + native conversation id, or channel + customer; for orders
   * `cust|<customer>`, for presence `presence|<channel>|<account>` (see pipeline.ts storageKey).
   */
  thread: string;
  /** JSON array of canonical events (output of validateEvent, source filled in). */
  events: string;
  received_at: number;
}

export interface ThreadsTable {
  thread: string;
  customer_id: string | null;
}

/** Threads whose facts must be recomputed: written with the events, cleared after the facts. */
export interface DirtyThreadsTable {
  thread: string;
  /** Which accept set the mark (markGen): a refresh clears a mark only as it read it. */
  gen: Generated<number>;
}

export interface RejectsTable {
  file: string;
  line: number;
  reason: string;
  raw: string | null;
  at: number;
}

export interface AgentsTable {
  id: string;
  name: string;
  employee_no: string | null;
  group_name: string | null;
  /** 1 when the agent comes from the roster; 0 when created for an account nobody has claimed yet. */
  on_roster: number;
  created_at: number;
}

/** One agent, many accounts: (platform, account) → agent. platform '*' matches any channel. */
export interface AgentAccountsTable {
  platform: string;
  account: string;
  agent_id: string;
}

interface LocalKeyColumns {
  day: string;
  week: string;
  month: string;
  hour: number;
  weekday: number;
}

export interface ConversationsTable extends LocalKeyColumns {
  id: string;
  thread: string;
  channel: string;
  customer_id: string | null;
  region: string | null;
  native_id: string | null;
  start_ts: number;
  end_ts: number;
  first_customer_ts: number | null;
  /** Responsible agent: last human handler, else the assignee; null = unassigned. */
  agent_id: string | null;
  /** Agent of the first human-handled segment: first response is credited here. */
  frt_agent_id: string | null;
  has_customer: number;
  invalid: number;
  missed: number;
  offline: number;
  closed: number;
  platform_resolved: number | null;
  human_replied: number;
  human_segments: number;
  rating: number | null;
  wait_ms: number | null;
  wait_bh_ms: number | null;
  frt_ms: number | null;
  frt_bh_ms: number | null;
  cfrt_ms: number | null;
  cfrt_bh_ms: number | null;
  bot_answered: number;
  bot_handoff: number;
  messages_in: number;
  messages_out: number;
  /** Start of the same customer's next conversation on any channel (for fcr and no_repeat). */
  next_conv_ts: number | null;
  converted: number;
  inquired: number;
  order_amount: number;
}

export interface SegmentsTable extends LocalKeyColumns {
  id: string;
  conversation_id: string;
  thread: string;
  seq: number;
  agent_id: string;
  channel: string;
  region: string | null;
  start_ts: number;
  end_ts: number;
  ended_by: string;
  valid: number;
  invalid: number;
  messages_in: number;
  messages_out: number;
  handle_ms: number;
  handle_bh_ms: number;
  w_received: number;
  w_valid: number;
}

export interface ResponsesTable extends LocalKeyColumns {
  conversation_id: string;
  thread: string;
  seq: number;
  agent_id: string;
  channel: string;
  region: string | null;
  customer_ts: number;
  reply_ts: number;
  ms: number;
  bh_ms: number;
}

export interface ConversationTagsTable {
  conversation_id: string;
  thread: string;
  tag: string;
}

export interface TicketsTable extends LocalKeyColumns {
  ticket_id: string;
  thread: string;
  channel: string;
  customer_id: string | null;
  region: string | null;
  category: string | null;
  agent_id: string | null;
  created_ts: number;
  resolved_ts: number | null;
  due_ts: number | null;
  escalated: number;
  repeat: number;
}

export type NewRow<T> = { [K in keyof T]: T[K] extends Generated<infer U> ? U : T[K] };

/** A report template (src/outputs/templates.ts), as validated JSON. */
export interface ReportTemplatesTable {
  name: string;
  doc: string;
  created_at: number;
  updated_at: number;
}

/** A scheduled delivery (src/delivery/schedules.ts); formats and recipients are JSON arrays. */
export interface SchedulesTable {
  id: string;
  name: string;
  /** Cron expression in the reporting timezone. */
  cron: string;
  template: string;
  /** Period rule: last-week, last-month… (src/outputs/period.ts). */
  period: string;
  formats: string;
  recipients: string;
  /** --as of the export; null: the default viewer. */
  viewer: string | null;
  enabled: Generated<number>;
  created_at: number;
}

/** One run of a schedule for one period; run_key = schedule id + period, claimed by insert. */
export interface ScheduleRunsTable {
  run_key: string;
  schedule_id: string;
  fire_at: number;
  period_from: string;
  period_to: string;
  period_label: string;
  /** running | retry | ok | failed */
  status: string;
  attempts: Generated<number>;
  claimed_by: string | null;
  lease_until: number | null;
  next_attempt_at: number | null;
  started_at: number;
  finished_at: number | null;
  /** JSON array of recipient ids already delivered: a retry does not send twice. */
  delivered: Generated<string>;
  files: string | null;
  error: string | null;
  /** JSON array of {at, attempt, error} for every failed attempt. */
  log: Generated<string>;
}

/** A saved CSV/XLSX column mapping (`cspulse mappings save`). */
export interface MappingsTable {
  name: string;
  /** JSON object: source column header → canonical field (see csv/field-dictionary.ts). */
  columns: string;
  description: string | null;
  created_at: number;
  updated_at: number;
}

/** A user field dictionary: the JSON of a dictionary file (csv/dictionaries/*.json). */
export interface FieldDictionariesTable {
  name: string;
  doc: string;
  updated_at: number;
}

/** An agent or bot account a live source has sent events for (the monitor's unknown accounts). */
export interface SourceAccountsTable {
  source_id: string;
  channel: string;
  account: string;
  account_name: string | null;
  first_seen: number;
}
