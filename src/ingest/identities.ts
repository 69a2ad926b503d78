/**
 * Agent identities: one agent, many platform accounts. An account nobody has claimed gets an agent
 * of its own (so no reply is ever uncredited) and is listed as unknown until an admin merges it
 * into a roster agent — by a roster import or `cspulse agents merge`.
 */
import { createHash } from 'node:crypto';
import type { Store } from '../store/db.ts';
import { rowsPerInsert } from '../store/db.ts';

export interface AgentInfo {
  id: string;
  name: string;
  group: string | null;
  onRoster: boolean;
}

export interface RosterEntry {
  name: string;
  employeeNo?: string;
  group?: string;
  accounts: { platform?: string; account: string }[];
}

const ANY = '*';

function shortHash(s: string): string {
  return createHash('sha1').update(s).digest('hex').slice(0, 12);
}

/** Stable ids: the same account always maps to the same agent, whatever order data arrives in. */
export function autoAgentId(platform: string, account: string): string {
  return `acct-${shortHash(`${platform}\u0000${account}`)}`;
}

export function rosterAgentId(entry: RosterEntry): string {
  return entry.employeeNo ? `emp-${entry.employeeNo}` : `name-${shortHash(entry.name)}`;
}

/** An agent made for an account nobody has claimed, not yet written (see `flush`). */
export interface PendingAgent {
  id: string;
  platform: string;
  account: string;
  name: string;
}

/** What a worker thread needs to resolve accounts as the main thread does (plain data). */
export interface IdentitySnapshot {
  aliases: [string, string][];
  agents: AgentInfo[];
}

export class Identities {
  private aliases = new Map<string, string>();
  /**
   * Accounts already resolved, by channel then account: a refresh resolves an account for every
   * agent message, and building the three alias keys each time was about 1% of a bulk import
   * (profiled). Any change of the aliases clears it.
   */
  private resolved = new Map<string, Map<string, string>>();
  readonly agents = new Map<string, AgentInfo>();
  private pending = new Map<string, PendingAgent>();

  private constructor(private store: Store | null) {}

  snapshot(): IdentitySnapshot {
    return { aliases: [...this.aliases], agents: [...this.agents.values()] };
  }

  /** Resolution only, away from the database: new agents are handed back by `takePending`. */
  static fromSnapshot(s: IdentitySnapshot): Identities {
    const ids = new Identities(null);
    for (const [k, v] of s.aliases) ids.aliases.set(k, v);
    for (const a of s.agents) ids.agents.set(a.id, { ...a });
    return ids;
  }

  /** The agents made since the last call, forgotten as pending (the caller writes them). */
  takePending(): PendingAgent[] {
    const rows = [...this.pending.values()];
    this.pending.clear();
    return rows;
  }

  static async load(store: Store): Promise<Identities> {
    const ids = new Identities(store);
    await ids.reload();
    return ids;
  }

  async reload(): Promise<void> {
    if (!this.store) throw new Error('identities from a snapshot cannot be reloaded');
    this.aliases.clear();
    this.resolved.clear();
    this.agents.clear();
    for (const a of await this.store.db.selectFrom('agent_accounts').selectAll().execute()) {
      this.aliases.set(`${a.platform}\u0000${a.account}`, a.agent_id);
    }
    for (const a of await this.store.db.selectFrom('agents').selectAll().execute()) {
      this.agents.set(a.id, { id: a.id, name: a.name, group: a.group_name, onRoster: a.on_roster === 1 });
    }
  }

  /**
   * Agent for an account on a channel: the exact (channel, account) alias, else the alias of the
   * channel's platform family (wecom_kf and wecom_app are 企业微信 userids: a roster's 企业微信账号
   * covers them), else a roster alias for any platform.
   */
  lookup(channel: string, account: string): string | undefined {
    let byAccount = this.resolved.get(channel);
    const hit = byAccount?.get(account);
    if (hit !== undefined) return hit;
    const family = channel.includes('_') ? channel.slice(0, channel.indexOf('_')) : null;
    const found =
      this.aliases.get(`${channel}\u0000${account}`) ??
      (family ? this.aliases.get(`${family}\u0000${account}`) : undefined) ??
      this.aliases.get(`${ANY}\u0000${account}`);
    if (found !== undefined) {
      if (!byAccount) {
        byAccount = new Map();
        this.resolved.set(channel, byAccount);
      }
      byAccount.set(account, found);
    }
    return found;
  }

  /** Like lookup, but an unknown account gets its own agent (written by `flush`). */
  agentFor(channel: string, account: string, displayName?: string): string {
    const known = this.lookup(channel, account);
    if (known) {
      // Whichever event names the account first, the display name wins over the bare account id.
      const p = this.pending.get(known);
      if (p && displayName && p.name === account) {
        p.name = displayName;
        this.agents.get(known)!.name = displayName;
      }
      return known;
    }
    const id = autoAgentId(channel, account);
    this.aliases.set(`${channel}\u0000${account}`, id);
    this.resolved.clear();
    const name = displayName || account;
    this.agents.set(id, { id, name, group: null, onRoster: false });
    this.pending.set(id, { id, platform: channel, account, name });
    return id;
  }

  /** Store the agents created for unknown accounts since the last flush. */
  async flush(): Promise<number> {
    if (!this.store) throw new Error('identities from a snapshot cannot be written');
    const rows = this.takePending();
    if (!rows.length) return 0;
    const now = Date.now();
    for (let i = 0; i < rows.length; i += rowsPerInsert(6)) {
      const chunk = rows.slice(i, i + rowsPerInsert(6));
      await this.store.db
        .insertInto('agents')
        .values(
          chunk.map((r) => ({
            id: r.id,
            name: r.name,
            employee_no: null,
            group_name: null,
            on_roster: 0,
            created_at: now,
          })),
        )
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      await this.store.db
        .insertInto('agent_accounts')
        .values(chunk.map((r) => ({ platform: r.platform, account: r.account, agent_id: r.id })))
        .onConflict((oc) => oc.columns(['platform', 'account']).doNothing())
        .execute();
    }
    return rows.length;
  }
}

/**
 * Import a roster: create or update each agent and point its accounts at it. Accounts that had an
 * auto-created agent move over; the threads they appear in are returned so their facts can be
 * recomputed with the right agent.
 */
export async function importRoster(
  store: Store,
  entries: RosterEntry[],
): Promise<{ agents: number; accounts: number; moved: string[] }> {
  const now = Date.now();
  const moved: string[] = [];
  let accounts = 0;
  await store.db.transaction().execute(async (tx) => {
    for (const e of entries) {
      const id = rosterAgentId(e);
      await tx
        .insertInto('agents')
        .values({
          id,
          name: e.name,
          employee_no: e.employeeNo ?? null,
          group_name: e.group ?? null,
          on_roster: 1,
          created_at: now,
        })
        .onConflict((oc) =>
          oc.column('id').doUpdateSet({
            name: e.name,
            employee_no: e.employeeNo ?? null,
            group_name: e.group ?? null,
            on_roster: 1,
          }),
        )
        .execute();
      for (const a of e.accounts) {
        const platform = a.platform || ANY;
        await tx
          .insertInto('agent_accounts')
          .values({ platform, account: a.account, agent_id: id })
          .onConflict((oc) => oc.columns(['platform', 'account']).doUpdateSet({ agent_id: id }))
          .execute();
        // A roster alias for any platform supersedes the per-channel aliases made for unknown accounts.
        const superseded = await tx
          .selectFrom('agent_accounts')
          .select(['platform', 'agent_id'])
          .where('account', '=', a.account)
          .where('agent_id', '!=', id)
          .where('agent_id', 'like', 'acct-%')
          .execute();
        // …and one for a platform, those of its family's channels (wecom → wecom_kf, wecom_app).
        const covered = (p: string) => platform === ANY || p === platform || p.startsWith(`${platform}_`);
        for (const s of superseded.filter((r) => covered(r.platform))) {
          await tx
            .updateTable('agent_accounts')
            .set({ agent_id: id })
            .where('platform', '=', s.platform)
            .where('account', '=', a.account)
            .execute();
          await tx.deleteFrom('agents').where('id', '=', s.agent_id).execute();
        }
        if (superseded.some((r) => covered(r.platform))) moved.push(a.account);
        accounts++;
      }
    }
  });
  return { agents: entries.length, accounts, moved };
}

/** Move every account of agent `from` to agent `to` (merging an unknown account into a roster agent). */
export async function mergeAgents(store: Store, from: string, to: string): Promise<string[]> {
  const accounts = await store.db
    .selectFrom('agent_accounts')
    .select('account')
    .where('agent_id', '=', from)
    .execute();
  const target = await store.db.selectFrom('agents').select('id').where('id', '=', to).executeTakeFirst();
  if (!target) throw new Error(`no agent with id "${to}" (see \`cspulse agents list\`)`);
  await store.db.transaction().execute(async (tx) => {
    await tx.updateTable('agent_accounts').set({ agent_id: to }).where('agent_id', '=', from).execute();
    await tx.deleteFrom('agents').where('id', '=', from).execute();
  });
  return accounts.map((a) => a.account);
}
