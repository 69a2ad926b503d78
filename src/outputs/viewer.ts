/**
 * Who an export is for (`--as`). Users and roles come later; until then a scope is named directly:
 *
 *   (no --as)        everyone's rows, personal data masked — the safe default for a file that travels
 *   all              the same, said explicitly (总监: the whole department, masked)
 *   hr | admin       everyone's rows with personal data unmasked (METRICS.md "pii:view")
 *   group:NAME       one group's rows, masked (客服组长: only their group)
 *   agent:ID_OR_NAME one agent's own row, masked, without the score (客服本人)
 *
 * When users exist, a user's role maps onto these: a role holding pii:view → hr; a team lead → group
 * of their team; an agent → agent of themselves. The scope is applied server-side by buildBundle,
 * so no renderer ever holds rows the viewer may not see.
 */
import type { Store } from '../store/db.ts';
import type { Viewer } from './types.ts';

export const DEFAULT_VIEWER: Viewer = {
  label: '全部(脱敏)',
  scope: { kind: 'all' },
  canSeePii: false,
  hidden: [],
};

export class ViewerError extends Error {
  constructor(input: string, zh: string, en: string) {
    super(
      `--as “${input}”:${zh} / --as "${input}": ${en} (可用 / expected: all, hr, admin, group:NAME, agent:ID_OR_NAME)`,
    );
    this.name = 'ViewerError';
  }
}

/** Resolves `--as`; agent names are looked up among the agents (by id, then by name). */
export async function parseViewer(store: Store, input: string | undefined): Promise<Viewer> {
  if (input === undefined) return DEFAULT_VIEWER;
  const s = input.trim();
  if (s === 'all') return { label: '全部', scope: { kind: 'all' }, canSeePii: false, hidden: [] };
  if (s === 'hr' || s === 'admin')
    return { label: s === 'hr' ? 'HR' : '管理员', scope: { kind: 'all' }, canSeePii: true, hidden: [] };
  const m = /^(group|agent):(.+)$/.exec(s);
  if (!m) throw new ViewerError(input, '无法识别', 'not recognised');
  const name = m[2]!.trim();
  if (m[1] === 'group') {
    const hit = await store.db
      .selectFrom('agents')
      .select('group_name')
      .where('group_name', '=', name)
      .limit(1)
      .executeTakeFirst();
    if (!hit) throw new ViewerError(input, `没有名为 “${name}” 的组`, `no group named "${name}"`);
    return { label: `组:${name}`, scope: { kind: 'group', group: name }, canSeePii: false, hidden: [] };
  }
  const byId = await store.db
    .selectFrom('agents')
    .select(['id', 'name'])
    .where('id', '=', name)
    .executeTakeFirst();
  const hits = byId
    ? [byId]
    : await store.db.selectFrom('agents').select(['id', 'name']).where('name', '=', name).execute();
  if (!hits.length)
    throw new ViewerError(
      input,
      `没有客服 “${name}”(见 cspulse agents list)`,
      `no agent "${name}" (see cspulse agents list)`,
    );
  if (hits.length > 1)
    throw new ViewerError(
      input,
      `有 ${hits.length} 位客服叫 “${name}”,请用 id:${hits.map((h) => h.id).join(', ')}`,
      `${hits.length} agents are named "${name}"; use an id: ${hits.map((h) => h.id).join(', ')}`,
    );
  const a = hits[0]!;
  return {
    label: `客服:${a.name}`,
    scope: { kind: 'agent', agentId: a.id },
    canSeePii: false,
    // The salary-relevant score is never shown to agents themselves (seed 000).
    hidden: ['score'],
  };
}

/** For file names: empty for an unscoped viewer, else `_组-电商一组` / `_张三`. */
export function viewerSuffix(v: Viewer): string {
  if (v.scope.kind === 'all') return '';
  const text = v.label.replace(/^客服:/, '').replace(/^组:/, '组-');
  return `_${text.replace(/[\\/:*?"<>|\s]+/g, '-')}`;
}
