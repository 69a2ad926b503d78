import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileFormula, FormulaError, formatName, parseFormula } from './formula.ts';

const values = (vs: Record<string, number | null>) => (name: string) => vs[name] ?? null;
const calc = (src: string, vs: Record<string, number | null> = {}) => parseFormula(src).evaluate(values(vs));

function errorOf(fn: () => unknown): FormulaError {
  try {
    fn();
  } catch (e) {
    if (e instanceof FormulaError) return e;
    throw e;
  }
  throw new Error('expected a FormulaError');
}

describe('formula: seed examples', () => {
  it('有效工作率 = 有效会话数 / 接待会话数 * 100', () => {
    const f = compileFormula('有效工作率 = 有效会话数 / 接待会话数 * 100');
    expect(f.name).toBe('有效工作率');
    expect(f.references).toEqual(['valid', 'received']);
    expect(f.evaluate(values({ valid: 80, received: 100 }))).toBe(80);
    expect(f.evaluate(values({ valid: 80, received: 0 }))).toBeNull();
    expect(f.evaluate(values({ valid: null, received: 100 }))).toBeNull();
  });

  it('综合得分 over score component names', () => {
    const f = compileFormula('综合得分 = 响应速度*0.3 + 解决率*0.5 + 客户满意度*0.2', {
      names: ['响应速度', '客户满意度'],
    });
    expect(f.references).toEqual(['响应速度', 'resolution_rate', '客户满意度']);
    expect(f.evaluate(values({ 响应速度: 90, resolution_rate: 80, 客户满意度: 70 }))).toBeCloseTo(81);
  });

  it('keeps names as written until bound', () => {
    const f = parseFormula('有效会话数 / 接待会话数');
    expect(f.references).toEqual(['有效会话数', '接待会话数']);
    expect(f.occurrences).toEqual([
      { name: '有效会话数', position: 0 },
      { name: '接待会话数', position: 8 },
    ]);
  });
});

describe('formula: evaluation', () => {
  it.each([
    ['2 + 3 * 4', 14],
    ['(2 + 3) * 4', 20],
    ['10 - 4 - 3', 3],
    ['12 / 3 / 2', 2],
    ['2^3^2', 512],
    ['-2^2', -4],
    ['(-2)^2', 4],
    ['2^-1', 0.5],
    ['-3 * -2', 6],
    ['50%', 0.5],
    ['200 * 5% + 1', 11],
    ['1 + 2 > 2', 1],
    ['1 + 2 = 4 - 1', 1],
    ['3 <> 3', 0],
    ['2 <= 2', 1],
    ['1.5e2 + .5', 150.5],
    ['IF(1 > 2, 10, 20)', 20],
    ['IF(0, 10)', null],
    ['if(3, 10, 20)', 10],
    ['MIN(3, 1, 2)', 1],
    ['MAX(3, 1, 2)', 3],
    ['SUM(1, 2, 3)', 6],
    ['AVERAGE(1, 2, 6)', 3],
    ['ROUND(2.675, 2)', 2.68],
    ['ROUND(-2.5)', -3],
    ['ROUND(1234.5, -2)', 1200],
    ['ABS(-4)', 4],
    ['AND(1, 2 > 1)', 1],
    ['AND(1, 0)', 0],
    ['OR(0, 0)', 0],
    ['OR(0, 3)', 1],
    ['NOT(0)', 1],
    ['ISBLANK(1)', 0],
    ['=1+1', 2],
  ])('%s → %s', (src, expected) => {
    expect(calc(src)).toBe(expected);
  });

  it('empty values propagate through operators and skip in MIN/MAX/SUM/AVERAGE/AND/OR', () => {
    const vs = { a: 4, e: null };
    expect(calc('a + e', vs)).toBeNull();
    expect(calc('-e', vs)).toBeNull();
    expect(calc('e > 1', vs)).toBeNull();
    expect(calc('ROUND(e)', vs)).toBeNull();
    expect(calc('IF(e, 1, 2)', vs)).toBeNull();
    expect(calc('IF(a, 1, e)', vs)).toBe(1);
    expect(calc('MIN(a, e)', vs)).toBe(4);
    expect(calc('AVERAGE(a, e, 2)', vs)).toBe(3);
    expect(calc('SUM(e, e)', vs)).toBeNull();
    expect(calc('AND(e, a)', vs)).toBe(1);
    expect(calc('ISBLANK(e)', vs)).toBe(1);
    expect(calc('IF(ISBLANK(e), 0, e * 2)', vs)).toBe(0);
    expect(calc('missing_name * 2', vs)).toBeNull();
  });

  it('division by zero and non-finite results are empty, never NaN or Infinity', () => {
    expect(calc('1 / 0')).toBeNull();
    expect(calc('0 / 0')).toBeNull();
    expect(calc('1 / (2 - 2) + 5')).toBeNull();
    expect(calc('(-8)^0.5')).toBeNull();
    expect(calc('1e300 * 1e300')).toBeNull();
    expect(parseFormula('a').evaluate(() => Number.NaN)).toBeNull();
    expect(parseFormula('a').evaluate(() => Number.POSITIVE_INFINITY)).toBeNull();
    expect(Object.is(calc('-0'), 0)).toBe(true);
  });

  it('reads Chinese names, bracketed names and full-width punctuation', () => {
    expect(compileFormula('[首次响应时长 P90] / 60').references).toEqual(['frt_p90_s']);
    expect(compileFormula('[CSAT (average)] + 平均满意度').references).toEqual(['csat_avg']);
    expect(
      compileFormula('MAX（解决率，转化率）× 100').evaluate(
        values({ resolution_rate: 0.8, conversion_rate: 0.1 }),
      ),
    ).toBe(80);
    expect(calc('【x 1】 ÷ 2 ≥ 1', { 'x 1': 4 })).toBe(1);
    expect(calc('a_1 + 客服2号', { a_1: 1, 客服2号: 2 })).toBe(3);
  });

  it('prints back in canonical form', () => {
    expect(parseFormula('有效工作率=有效会话数/接待会话数*100').toString()).toBe(
      '有效工作率 = 有效会话数 / 接待会话数 * 100',
    );
    expect(compileFormula('if(解决率>0.5,1,0)').toString()).toBe('IF(resolution_rate > 0.5, 1, 0)');
    expect(parseFormula('-(2^2) + (-2)^2 - (a - b) - -c').toString()).toBe('-2^2 + (-2)^2 - (a - b) - -c');
    expect(parseFormula('[首次响应时长 P90] * 2').expression()).toBe('[首次响应时长 P90] * 2');
    expect(formatName('7日复购率')).toBe('[7日复购率]');
  });
});

describe('formula: errors carry the position of the problem', () => {
  it.each([
    ['(a + b', 0, 'syntax', '括号没有闭合'],
    ['MIN(1, 2', 3, 'syntax', '括号没有闭合'],
    ['（a + b', 0, 'syntax', '括号没有闭合'],
    ['a + b)', 5, 'syntax', '多余的右括号'],
    ['a +', 2, 'syntax', '“+” 后面缺少内容'],
    ['综合得分 =', 5, 'syntax', '“=” 后面缺少内容'],
    ['a * * b', 4, 'syntax', '此处应为数值或名称'],
    ['MIN(a, )', 7, 'syntax', '此处应为数值或名称'],
    ['a b', 2, 'syntax', '缺少运算符'],
    ['7日复购率 + 1', 1, 'syntax', '方括号'],
    ['a < b < c', 6, 'syntax', '不能连写'],
    ['', 0, 'syntax', '公式为空'],
    ['a # b', 2, 'syntax', '无法识别的字符 “#”'],
    ['[abc + 1', 0, 'syntax', '方括号没有闭合'],
    ['1e999', 0, 'syntax', '超出范围'],
    ['a + FOO(1)', 4, 'unknown_function', '未知函数 “FOO”'],
    ['IF(a)', 0, 'arity', 'IF 需要 2 到 3 个参数'],
    ['ROUND(a, 1, 2)', 0, 'arity', 'ROUND'],
    ['NOT()', 0, 'arity', 'NOT'],
  ])('%j → %i', (src, position, code, fragment) => {
    const e = errorOf(() => parseFormula(src));
    expect({ position: e.position, code: e.code }).toEqual({ position, code });
    expect(e.message).toContain(fragment);
    expect(e.message).toContain(`第 ${position + 1} 个字符`);
  });

  it('unknown names, with their position, when bound', () => {
    const e = errorOf(() => compileFormula('综合得分 = 响应速率*0.3 + 解决率*0.5'));
    expect(e.code).toBe('unknown_name');
    expect(e.position).toBe(7);
    expect(e.message).toBe('第 8 个字符:未知名称 “响应速率” / at character 8: unknown name "响应速率"');
    expect(errorOf(() => compileFormula('解决率 + [x y]')).position).toBe(6);
    expect(
      errorOf(() => compileFormula('a + b', { resolve: (n) => (n === 'a' ? 'A' : undefined) })).position,
    ).toBe(4);
  });

  it('a formula cannot use its own result', () => {
    const e = errorOf(() => compileFormula('x = 1 + x', { names: ['x'] }));
    expect([e.code, e.position]).toEqual(['self_reference', 8]);
    expect(errorOf(() => compileFormula('有效工作率 = effective_rate * 100')).code).toBe('self_reference');
  });
});

// ---- Excel rendering ----------------------------------------------------------------------

const COLUMNS: Record<string, string> = {
  a: 'A2',
  b: 'B2',
  c: 'C2',
  d: 'D2',
  valid: 'E2',
  received: 'F2',
  resolution_rate: 'G2',
};
const cellFor = (name: string) => COLUMNS[name] ?? `?${name}`;
const excel = (src: string) => compileFormula(src, { names: ['a', 'b', 'c', 'd'] }).toExcel(cellFor);

describe('formula: toExcel', () => {
  it.each([
    ['有效会话数 / 接待会话数 * 100', 'IF(OR(E2="",F2="",F2=0),"",E2/F2*100)'],
    ['a / 4', 'IF(A2="","",A2/4)'],
    ['a / (b / c)', 'IF(OR(A2="",B2="",C2="",C2=0),"",IF(B2/C2=0,"",A2/(B2/C2)))'],
    ['-2^2 + 2^3^2', '-(2^2)+2^(3^2)'],
    ['a - (b - c) + (a + b)', 'IF(OR(A2="",B2="",C2=""),"",A2-(B2-C2)+(A2+B2))'],
    ['a > b', 'IF(OR(A2="",B2=""),"",N(A2>B2))'],
    ['(a > b) = (c < d)', 'IF(OR(A2="",B2="",C2="",D2=""),"",N(N(A2>B2)=N(C2<D2)))'],
    ['IF(解决率 > 0.5, 1, a / b)', 'IF(G2="","",IF(G2>0.5,1,IF(OR(A2="",B2="",B2=0),"",A2/B2)))'],
    ['IF(ISBLANK(a), 0, a * 2)', 'IF(A2="",0,A2*2)'],
    ['IF(a, b) + 1', 'IF(A2="","",IF(IF(A2,IF(B2="","",B2),"")="","",IF(A2,IF(B2="","",B2),"")+1))'],
    ['MIN(a, b * 2, 3)', 'MIN(A2,IF(B2="",1E+307,B2*2),3)'],
    ['MAX(a, b)', 'IF(AND(A2="",B2=""),"",MAX(A2,B2))'],
    [
      'AVERAGE(a, b / c)',
      'IF(AND(A2="",OR(B2="",C2="",C2=0)),"",SUM(A2,IF(OR(B2="",C2="",C2=0),0,B2/C2))/(IF(A2="",0,1)+IF(OR(B2="",C2="",C2=0),0,1)))',
    ],
    ['ROUND(a * 100, 1)', 'IF(A2="","",ROUND(A2*100,1))'],
    ['ABS(a) + 50%', 'IF(A2="","",ABS(A2)+50%)'],
    ['ISBLANK(a / b)', 'N(OR(A2="",B2="",B2=0))'],
  ])('%s', (src, expected) => {
    expect(excel(src)).toBe(expected);
  });
});

// ---- A small Excel interpreter: checks that toExcel means what evaluate computes -----------

type XVal = number | boolean | string | { blank: true } | { error: string };
type XNode =
  | { t: 'lit'; v: XVal }
  | { t: 'cell'; ref: string }
  | { t: 'un'; op: '-' | '%'; a: XNode }
  | { t: 'bin'; op: string; a: XNode; b: XNode }
  | { t: 'fn'; name: string; args: XNode[] };

const BLANK = { blank: true } as const;
const isErr = (v: XVal): v is { error: string } => typeof v === 'object' && 'error' in v;
const isBlank = (v: XVal) => typeof v === 'object' && 'blank' in v;

function parseExcel(src: string): XNode {
  const toks = src.match(/\d+(?:\.\d+)?(?:E[+-]?\d+)?|""|[A-Z]+\d+|[A-Z]+|<=|>=|<>|[-+*/^%(),=<>]/g) ?? [];
  expect(toks.join('')).toBe(src);
  let i = 0;
  const BP: Record<string, number> = {
    '=': 1,
    '<>': 1,
    '<': 1,
    '<=': 1,
    '>': 1,
    '>=': 1,
    '+': 2,
    '-': 2,
    '*': 3,
    '/': 3,
    '^': 4,
    '%': 5,
  };
  const primary = (): XNode => {
    const t = toks[i++];
    if (t === '-') return { t: 'un', op: '-', a: primary() }; // Excel's negation binds tightest
    if (t === '(') {
      const e = expr(0);
      expect(toks[i++]).toBe(')');
      return e;
    }
    if (t === '""') return { t: 'lit', v: '' };
    if (t === 'TRUE' || t === 'FALSE') return { t: 'lit', v: t === 'TRUE' };
    if (/^\d/.test(t)) return { t: 'lit', v: Number(t) };
    if (/^[A-Z]+\d+$/.test(t)) return { t: 'cell', ref: t };
    expect(toks[i++]).toBe('(');
    const args: XNode[] = [];
    while (toks[i - 1] !== ')') {
      args.push(expr(0));
      expect([',', ')']).toContain(toks[i++]);
    }
    return { t: 'fn', name: t, args };
  };
  const expr = (min: number): XNode => {
    let left = primary();
    while (i < toks.length && (BP[toks[i]] ?? 0) > min) {
      const op = toks[i++];
      left = op === '%' ? { t: 'un', op, a: left } : { t: 'bin', op, a: left, b: expr(BP[op]) };
    }
    return left;
  };
  const root = expr(0);
  expect(i).toBe(toks.length);
  return root;
}

function evalExcel(n: XNode, cells: Record<string, number | null>): XVal {
  const ev = (m: XNode) => evalExcel(m, cells);
  const num = (v: XVal): number | { error: string } =>
    typeof v === 'number'
      ? v
      : typeof v === 'boolean'
        ? +v
        : isBlank(v)
          ? 0
          : isErr(v)
            ? v
            : { error: '#VALUE!' };
  const bool = (v: XVal): boolean | { error: string } => {
    const x = num(v);
    return typeof x === 'number' ? x !== 0 : x;
  };
  const checked = (x: number): XVal => (Number.isFinite(x) ? x : { error: '#NUM!' });
  switch (n.t) {
    case 'lit':
      return n.v;
    case 'cell':
      return cells[n.ref] ?? BLANK;
    case 'un': {
      const x = num(ev(n.a));
      return typeof x !== 'number' ? x : n.op === '-' ? -x : x / 100;
    }
    case 'bin': {
      let a = ev(n.a);
      let b = ev(n.b);
      if (isErr(a)) return a;
      if (isErr(b)) return b;
      if (['=', '<>', '<', '<=', '>', '>='].includes(n.op)) {
        if (isBlank(a)) a = typeof b === 'string' ? '' : typeof b === 'boolean' ? false : 0;
        if (isBlank(b)) b = typeof a === 'string' ? '' : typeof a === 'boolean' ? false : 0;
        const rank = (v: XVal) => ({ number: 0, string: 1, boolean: 2 })[typeof v as 'number'];
        const [x, y] =
          rank(a) === rank(b) ? [Number(a === '' ? 0 : a), Number(b === '' ? 0 : b)] : [rank(a), rank(b)];
        return { '=': x === y, '<>': x !== y, '<': x < y, '<=': x <= y, '>': x > y, '>=': x >= y }[n.op]!;
      }
      const x = num(a);
      const y = num(b);
      if (typeof x !== 'number') return x;
      if (typeof y !== 'number') return y;
      if (n.op === '/' && y === 0) return { error: '#DIV/0!' };
      return checked({ '+': x + y, '-': x - y, '*': x * y, '/': x / y, '^': x ** y }[n.op]!);
    }
    case 'fn': {
      const [a0, a1, a2] = n.args;
      if (n.name === 'IF') {
        const c = bool(ev(a0));
        return typeof c !== 'boolean' ? c : c ? ev(a1) : a2 ? ev(a2) : false;
      }
      if (n.name === 'N') {
        const v = ev(a0);
        return isErr(v) ? v : typeof v === 'number' ? v : v === true ? 1 : 0;
      }
      if (n.name === 'NOT') {
        const c = bool(ev(a0));
        return typeof c === 'boolean' ? !c : c;
      }
      if (n.name === 'ABS' || n.name === 'ROUND') {
        const x = num(ev(a0));
        const d = num(a1 ? ev(a1) : 0);
        if (typeof x !== 'number') return x;
        if (typeof d !== 'number') return d;
        if (n.name === 'ABS') return Math.abs(x);
        const f = 10 ** Math.trunc(d);
        return (Math.sign(x) * Math.round(Math.abs(x) * f)) / f;
      }
      // MIN MAX SUM AVERAGE AND OR: cells contribute numbers only, direct values must be numbers or booleans.
      const xs: number[] = [];
      for (const a of n.args) {
        const v = ev(a);
        if (isErr(v)) return v;
        if (a.t === 'cell') {
          if (typeof v === 'number') xs.push(v);
        } else {
          const x = num(v);
          if (typeof x !== 'number') return x;
          xs.push(x);
        }
      }
      switch (n.name) {
        case 'MIN':
          return xs.length ? Math.min(...xs) : 0;
        case 'MAX':
          return xs.length ? Math.max(...xs) : 0;
        case 'SUM':
          return xs.reduce((s, x) => s + x, 0);
        case 'AVERAGE':
          return xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : { error: '#DIV/0!' };
        case 'AND':
          return xs.length ? xs.every((x) => x !== 0) : { error: '#VALUE!' };
        case 'OR':
          return xs.length ? xs.some((x) => x !== 0) : { error: '#VALUE!' };
      }
      throw new Error(`function ${n.name} not in the test interpreter`);
    }
  }
}

/** What a cell would show, in evaluate's terms: null for "" and blank. */
function excelResult(src: string, cells: Record<string, number | null>): number | null | string {
  const v = evalExcel(parseExcel(src), cells);
  if (isErr(v)) return v.error;
  if (v === '' || isBlank(v)) return null;
  return typeof v === 'number' ? v : `unexpected ${JSON.stringify(v)}`;
}

const NAMES = ['a', 'b', 'c', 'd'];
const leaf = fc.oneof(fc.constantFrom(...NAMES), fc.constantFrom('0', '1', '2', '0.5', '3'));
const { expr: arbExpr } = fc.letrec<{ expr: string }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc
      .tuple(tie('expr'), fc.constantFrom('+', '-', '*', '/'), tie('expr'), fc.boolean())
      .map(([a, op, b, p]) => (p ? `(${a} ${op} ${b})` : `${a} ${op} ${b}`)),
    fc
      .tuple(tie('expr'), fc.constantFrom('=', '<>', '<', '<=', '>', '>='), tie('expr'))
      .map(([a, op, b]) => `(${a} ${op} ${b})`),
    fc.tuple(tie('expr'), fc.constantFrom(2, 3)).map(([a, k]) => `(${a})^${k}`),
    tie('expr').map((a) => `-${a}`),
    tie('expr').map((a) => `(${a})%`),
    fc
      .tuple(
        fc.constantFrom('IF', 'MIN', 'MAX', 'SUM', 'AVERAGE', 'AND', 'OR'),
        fc.array(tie('expr'), { minLength: 1, maxLength: 3 }),
      )
      .filter(([fn, args]) => fn !== 'IF' || args.length >= 2)
      .map(([fn, args]) => `${fn}(${args.join(', ')})`),
    fc.tuple(fc.constantFrom('NOT', 'ABS', 'ISBLANK'), tie('expr')).map(([fn, a]) => `${fn}(${a})`),
    fc.tuple(tie('expr'), fc.constantFrom(0, 1, 2)).map(([a, d]) => `ROUND(${a}, ${d})`),
    tie('expr').map((a) => `IF(ISBLANK(${a}), 1, ${a})`),
  ),
}));
const arbValue = fc.constantFrom<number | null>(null, null, 0, 1, -2, 0.5, 3, 2.5);
const arbValues = fc.record({ a: arbValue, b: arbValue, c: arbValue, d: arbValue });

const sameNumber = (x: number | null | string, y: number | null) =>
  x === y || (typeof x === 'number' && y !== null && Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(y)));

describe('formula: properties', () => {
  it('never evaluates to NaN or ±Infinity', () => {
    const wild = fc.oneof(arbValue, fc.double(), fc.constantFrom(1e308, -1e308, 5e-324));
    fc.assert(
      fc.property(arbExpr, fc.record({ a: wild, b: wild, c: wild, d: wild }), (src, vs) => {
        const v = parseFormula(src).evaluate(values(vs));
        return v === null || Number.isFinite(v);
      }),
      { numRuns: 500 },
    );
  });

  it('prints a top-level comparison so that it does not read back as an assignment', () => {
    const f = parseFormula('(a = 0)');
    expect(f.toString()).toBe('(a = 0)');
    expect(parseFormula(f.toString()).name).toBeUndefined();
  });

  it('prints a formula that parses back to the same computation', () => {
    fc.assert(
      fc.property(arbExpr, arbValues, (src, vs) => {
        const f = parseFormula(src);
        const again = parseFormula(f.toString());
        expect(again.toString()).toBe(f.toString());
        expect(again.evaluate(values(vs))).toBe(f.evaluate(values(vs)));
      }),
      { numRuns: 300 },
    );
  });

  it('toExcel has balanced parentheses and computes what evaluate computes', () => {
    fc.assert(
      fc.property(arbExpr, arbValues, (src, vs) => {
        const f = compileFormula(src, { names: NAMES });
        const x = f.toExcel(cellFor);
        let depth = 0;
        for (const ch of x) {
          depth += ch === '(' ? 1 : ch === ')' ? -1 : 0;
          expect(depth).toBeGreaterThanOrEqual(0);
        }
        expect(depth).toBe(0);
        const cells = Object.fromEntries(NAMES.map((n) => [cellFor(n), vs[n as keyof typeof vs]]));
        const want = f.evaluate(values(vs));
        const got = excelResult(x, cells);
        if (!sameNumber(got, want))
          expect({ src, excel: x, vs, got }).toEqual({ src, excel: x, vs, got: want });
      }),
      { numRuns: 1000 },
    );
  });
});
