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

/**
 * The container holding `path`'s last key, copied on the way down (copy-on-write): the fixture
 * itself is never changed, and only the containers along the path are copied.
 */
function writableParent(root: { doc: unknown }, path: Path): Record<string | number, unknown> | undefined {
  let holder: Record<string | number, unknown> = root as unknown as Record<string, unknown>;
  let key: string | number = 'doc';
  for (const k of [...path.slice(0, -1), null]) {
    const cur = holder[key];
    if (typeof cur !== 'object' || cur === null) return undefined;
    const copy = (Array.isArray(cur) ? [...cur] : { ...cur }) as Record<string | number, unknown>;
    holder[key] = copy;
    if (k === null) return copy;
    holder = copy;
    key = k;
  }
  return undefined;
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
  value: fc.oneof(
    fc.integer(),
    fc.double(),
    fc.string({ maxLength: 20 }),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.array(fc.integer(), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
  ),
  n: fc.integer({ min: 1, max: 200 }),
});

/** Mutated copies of the given documents: 0–6 mutations each, at paths that exist in them. */
export function mutatedPayloads(bases: readonly unknown[]): fc.Arbitrary<unknown> {
  const withPaths = bases.map((b) => ({ base: b, paths: paths(b) }));
  return fc
    .tuple(fc.nat({ max: withPaths.length - 1 }), fc.array(mutation, { maxLength: 6 }))
    .map(([i, muts]) => {
      const { base, paths: ps } = withPaths[i]!;
      const root = { doc: base };
      if (!ps.length) return base;
      for (const m of muts) {
        const path = ps[m.at % ps.length]!;
        const parent = writableParent(root, path);
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
            parent[key] = typeof parent[key] === 'object' ? JSON.stringify(parent[key]) : String(parent[key]);
            break;
          case 'null':
            parent[key] = null;
            break;
          case 'array':
            parent[key] = [parent[key]];
            break;
        }
      }
      return root.doc;
    });
}
