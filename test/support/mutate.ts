/**
 * Hostile variants of real payloads for the parsers' property tests: start from a fixture, then
 * replace fields with values of the wrong type, delete them, nest deeply, blow strings up, or
 * put in text decoded with the wrong encoding.
 */
import fc from 'fast-check';

type Path = (string | number)[];

function paths(v: unknown, prefix: Path = [], out: Path[] = [], depth = 0): Path[] {
  if (depth > 8 || typeof v !== 'object' || v === null) return out;
  for (const k of Object.keys(v)) {
    const p = [...prefix, Array.isArray(v) ? Number(k) : k];
    out.push(p);
    paths((v as Record<string, unknown>)[k], p, out, depth + 1);
  }
  return out;
}

const DELETE = Symbol('delete');

function apply(base: unknown, muts: [number, unknown][]): unknown {
  const doc = structuredClone(base);
  for (const [at, value] of muts) {
    const all = paths(doc);
    if (!all.length) return value === DELETE ? doc : value;
    const path = all[at % all.length]!;
    let parent = doc as Record<string | number, unknown>;
    for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
    const last = path[path.length - 1]!;
    if (value === DELETE) {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else parent[last] = value;
  }
  return doc;
}

const nested = fc.integer({ min: 50, max: 3000 }).map((n) => {
  let v: unknown = 'bottom';
  for (let i = 0; i < n; i++) v = i % 2 ? [v] : { a: v };
  return v;
});

/** Mojibake: UTF-8 Chinese read as Latin-1, GBK bytes read as UTF-8, lone surrogates, NULs. */
const wrongEncoding = fc.constantFrom(
  Buffer.from('您好，请问订单', 'utf8').toString('latin1'),
  Buffer.from([0xc4, 0xfa, 0xba, 0xc3, 0xa3, 0xac]).toString('utf8'),
  '\ud800abc\udfff',
  'a\u0000b',
  '\ufeff\u202e',
);

export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.anything() },
  { weight: 2, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null)) },
  { weight: 2, arbitrary: fc.string({ maxLength: 60 }) },
  { weight: 1, arbitrary: wrongEncoding },
  { weight: 1, arbitrary: nested },
  { weight: 1, arbitrary: fc.integer({ min: 100_000, max: 300_000 }).map((n) => '长'.repeat(n)) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '0', '-1', '1e400', 'NaN', '99999999999999999999') },
  // Around the model's limits (200-character accounts, 500-character ids), with platform prefixes.
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('', 'wm', 'wo', 'wb', 'wr'), fc.integer({ min: 180, max: 520 }))
      .map(([p, n]) => p + 'x'.repeat(n)),
  },
);

/** A fixture with up to four fields replaced or deleted, or something else altogether. */
export function mutatedFrom(bases: unknown[]): fc.Arbitrary<unknown> {
  const mutation = fc.tuple(fc.nat(), fc.oneof(fc.constant<unknown>(DELETE), hostileValue));
  return fc.oneof(
    {
      weight: 8,
      arbitrary: fc
        .tuple(fc.constantFrom(...bases), fc.array(mutation, { minLength: 1, maxLength: 4 }))
        .map(([b, m]) => apply(b, m)),
    },
    { weight: 1, arbitrary: hostileValue },
    { weight: 1, arbitrary: fc.array(fc.constantFrom(...bases), { maxLength: 3 }) },
  );
}
