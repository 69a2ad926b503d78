/**
 * Hostile payloads for the connectors' property tests (not used by production code): real
 * fixtures with fields replaced by wrong types, deleted, wrapped, made huge or nested deeply, and
 * strings with broken encodings. A parser must answer each with valid events or typed rejects.
 */
import fc from 'fast-check';
import { validateEvent } from '../../model/events.ts';
import type { WebhookParse } from '../webhooks.ts';

const HUGE = 'x'.repeat(300_000);
const BROKEN = '\uD800\uFFFD\u0000\u202E乱码\uDFFF';
const DEEP = (() => {
  let v: unknown = 'bottom';
  for (let i = 0; i < 5000; i++) v = i % 2 ? [v] : { v };
  return v;
})();

const value: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({ maxDepth: 2 }),
  fc.constantFrom(
    null,
    undefined,
    true,
    0,
    -1,
    1e300,
    Number.NaN,
    '',
    '0',
    '1e400',
    HUGE,
    BROKEN,
    DEEP,
    [],
    {},
  ),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 8 }),
);

type Mutation = { pick: number; op: 'set' | 'delete' | 'wrap'; value: unknown };

function containers(doc: unknown): [Record<string, unknown> | unknown[], string | number][] {
  const out: [Record<string, unknown> | unknown[], string | number][] = [];
  const walk = (v: unknown, depth: number) => {
    if (depth > 12 || v === null || typeof v !== 'object') return;
    if (Array.isArray(v))
      v.forEach((x, i) => {
        out.push([v, i]);
        walk(x, depth + 1);
      });
    else
      for (const k of Object.keys(v)) {
        out.push([v as Record<string, unknown>, k]);
        walk((v as Record<string, unknown>)[k], depth + 1);
      }
  };
  walk(doc, 0);
  return out;
}

function apply(root: { doc: unknown }, m: Mutation): void {
  const spots = containers(root.doc);
  if (spots.length === 0) {
    root.doc = m.value;
    return;
  }
  const [holder, key] = spots[m.pick % spots.length]!;
  const h = holder as Record<string | number, unknown>;
  if (m.op === 'delete') {
    if (Array.isArray(holder)) holder.splice(key as number, 1);
    else delete h[key];
  } else if (m.op === 'wrap') h[key] = [h[key], { nested: h[key] }];
  else h[key] = m.value;
}

/** Real documents, each mutated 1–4 times; sometimes a whole foreign value instead. */
export function mutatedPayloads(bases: unknown[]): fc.Arbitrary<unknown> {
  const mutation = fc.record({
    pick: fc.nat(),
    op: fc.constantFrom<'set' | 'delete' | 'wrap'>('set', 'set', 'delete', 'wrap'),
    value,
  });
  const mutated = fc
    .tuple(fc.constantFrom(...bases), fc.array(mutation, { minLength: 1, maxLength: 4 }))
    .map(([base, ms]) => {
      const root = { doc: structuredClone(base) };
      for (const m of ms) apply(root, m);
      return root.doc;
    });
  return fc.oneof({ arbitrary: mutated, weight: 9 }, { arbitrary: value, weight: 1 });
}

/** The parser's promise, checked: only valid events, only rejects with a reason. */
export function assertTyped(r: WebhookParse): void {
  if (!Array.isArray(r.events) || !Array.isArray(r.rejects)) throw new Error('parse returned no lists');
  for (const e of r.events) {
    const v = validateEvent(e);
    if (!v.ok) throw new Error(`invalid event emitted: ${v.reason}`);
  }
  for (const j of r.rejects)
    if (typeof j.reason !== 'string' || !j.reason || typeof j.at !== 'string')
      throw new Error(`untyped reject: ${JSON.stringify(j).slice(0, 200)}`);
}
