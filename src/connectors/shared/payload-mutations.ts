/**
 * Hostile variants of real payloads, for the parsers' property tests (not used by production code):
 * start from a fixture, then change fields to wrong types, delete them, nest deeply, blow strings
 * up, and put broken text (lone surrogates, replacement characters, NULs) where text was.
 */
import fc from 'fast-check';

type Path = (string | number)[];

function paths(v: unknown, prefix: Path = [], out: Path[] = [], depth = 0): Path[] {
  if (depth > 12 || typeof v !== 'object' || v === null) return out;
  for (const [k, child] of Object.entries(v)) {
    const p = [...prefix, Array.isArray(v) ? Number(k) : k];
    out.push(p);
    paths(child, p, out, depth + 1);
  }
  return out;
}

function parentOf(root: unknown, path: Path): Record<string | number, unknown> | undefined {
  let cur: unknown = root;
  for (const k of path.slice(0, -1)) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return typeof cur === 'object' && cur !== null ? (cur as Record<string | number, unknown>) : undefined;
}

function nest(v: unknown, depth: number): unknown {
  let out = v;
  for (let i = 0; i < depth; i++) out = i % 2 ? [out] : { a: out };
  return out;
}

const BROKEN_TEXT = [
  '\uD800',
  '\uDFFF abc',
  '\uFFFD\uFFFD',
  'a\u0000b',
  '\u202Eevil',
  'Ã©Ã¨ mojibake',
  '锟斤拷烫烫烫',
];

const mutation = fc.record({
  at: fc.nat(),
  op: fc.constantFrom('set', 'delete', 'nest', 'huge', 'broken', 'number', 'string', 'null', 'array'),
  value: fc.anything({ maxDepth: 2 }),
  n: fc.integer({ min: 1, max: 200 }),
});

/** Mutated copies of the given documents: 0–6 mutations each, at paths that exist in them. */
export function mutatedPayloads(bases: readonly unknown[]): fc.Arbitrary<unknown> {
  const withPaths = bases.map((b) => ({ base: b, paths: paths(b) }));
  return fc
    .tuple(fc.nat({ max: withPaths.length - 1 }), fc.array(mutation, { maxLength: 6 }))
    .map(([i, muts]) => {
      const { base, paths: ps } = withPaths[i]!;
      const doc = structuredClone(base) as unknown;
      if (!ps.length) return doc;
      for (const m of muts) {
        const path = ps[m.at % ps.length]!;
        const parent = parentOf(doc, path);
        if (!parent) continue;
        const key = path[path.length - 1]!;
        switch (m.op) {
          case 'set':
            parent[key] = m.value;
            break;
          case 'delete':
            delete parent[key];
            break;
          case 'nest':
            parent[key] = nest(parent[key], m.n * 10);
            break;
          case 'huge':
            parent[key] = 'x'.repeat(m.n * 600);
            break;
          case 'broken':
            parent[key] = BROKEN_TEXT[m.n % BROKEN_TEXT.length];
            break;
          case 'number':
            parent[key] = [0, -1, 1e300, Number.NaN, 3.5, 2 ** 53 + 1][m.n % 6];
            break;
          case 'string':
            parent[key] = String(parent[key]);
            break;
          case 'null':
            parent[key] = null;
            break;
          case 'array':
            parent[key] = [parent[key]];
            break;
        }
      }
      return doc;
    });
}
