/**
 * The formula language of computed fields and score models (METRICS.md "Composite scores"):
 *
 *   有效工作率 = 有效会话数 / 接待会话数 * 100
 *   综合得分 = IF(ISBLANK(解决率), 0, ROUND(解决率 * 100, 1))
 *
 * Operators, loosest first: comparisons = <> < <= > >= (not chainable) · + - · * / · unary minus ·
 * ^ (right-associative: -2^2 = -4 and 2^3^2 = 512 as in maths; Excel reads both differently, so
 * toExcel writes the parentheses that keep our meaning) · postfix %. Functions: IF(c, a[, b]),
 * MIN, MAX, SUM, AVERAGE, AND, OR, NOT, ROUND(x[, digits]), ABS, ISBLANK.
 * Names are letters of any script, digits and _, not starting with a digit; anything else goes in
 * brackets: [首次响应时长 P90]. Full-width ASCII, ×, ÷ and 【】 read as their ASCII forms because
 * Chinese input methods produce them. A leading `名称 =` names the result; a leading `=` is skipped.
 *
 * Values are numbers or null (empty); comparisons and logic give 1/0. null propagates through
 * operators, ROUND/ABS/NOT and an IF condition; MIN MAX SUM AVERAGE AND OR skip nulls (null when all
 * are); ISBLANK tests for it. Division by zero and every non-finite result give null, never NaN.
 */
import { resolveMetric } from './catalog.ts';

export type FormulaErrorCode = 'syntax' | 'unknown_name' | 'unknown_function' | 'arity' | 'self_reference';

/** `position` is a 0-based offset into the source; the message counts characters from 1. */
export class FormulaError extends Error {
  readonly position: number;
  readonly code: FormulaErrorCode;
  constructor(position: number, code: FormulaErrorCode, zh: string, en: string) {
    super(`第 ${position + 1} 个字符:${zh} / at character ${position + 1}: ${en}`);
    this.name = 'FormulaError';
    this.position = position;
    this.code = code;
  }
}

export const FORMULA_FUNCTIONS = {
  IF: [2, 3],
  MIN: [1, Infinity],
  MAX: [1, Infinity],
  SUM: [1, Infinity],
  AVERAGE: [1, Infinity],
  AND: [1, Infinity],
  OR: [1, Infinity],
  NOT: [1, 1],
  ROUND: [1, 2],
  ABS: [1, 1],
  ISBLANK: [1, 1],
} as const satisfies Record<string, readonly [number, number]>;
type Fn = keyof typeof FORMULA_FUNCTIONS;
type Aggregate = 'MIN' | 'MAX' | 'SUM' | 'AVERAGE' | 'AND' | 'OR';

type BinOp = '+' | '-' | '*' | '/' | '^' | '=' | '<>' | '<' | '<=' | '>' | '>=';
type Node =
  | { t: 'num'; v: number; pos: number }
  | { t: 'ref'; name: string; pos: number }
  | { t: 'neg' | 'pct'; a: Node; pos: number }
  | { t: 'bin'; op: BinOp; a: Node; b: Node; pos: number }
  | { t: 'call'; fn: Fn; args: Node[]; pos: number };

const CMP: ReadonlySet<string> = new Set(['=', '<>', '<', '<=', '>', '>=']);

// ---- Tokens -------------------------------------------------------------------------------

interface Tok {
  k: 'num' | 'name' | 'op' | 'eof';
  v: string;
  pos: number;
  end: number;
}

const WIDE: Record<string, string> = { '×': '*', '÷': '/', '【': '[', '】': ']', '\u3000': ' ' };
const NAME_RE = /[\p{L}\p{M}_][\p{L}\p{M}\p{N}_]*/uy;
const NUMBER_RE = /(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y;
const OPS = ['<=', '>=', '<>', '≤', '≥', '≠', '+', '-', '*', '/', '^', '%', '(', ')', ',', '=', '<', '>'];
const OP_ALIAS: Record<string, string> = { '≤': '<=', '≥': '>=', '≠': '<>' };

/** Maps each UTF-16 unit to one unit, so offsets in the narrowed text are offsets in the source. */
function narrow(src: string): string {
  let out = '';
  for (const ch of src) {
    const c = ch.charCodeAt(0);
    out += c >= 0xff01 && c <= 0xff5e ? String.fromCharCode(c - 0xfee0) : (WIDE[ch] ?? ch);
  }
  return out;
}

function sticky(re: RegExp, s: string, at: number): string | undefined {
  re.lastIndex = at;
  return re.exec(s)?.[0];
}

function tokenize(src: string): Tok[] {
  const s = narrow(src);
  const toks: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    if (/\s/.test(s[i])) {
      i++;
      continue;
    }
    const num = sticky(NUMBER_RE, s, i);
    const name = num ? undefined : sticky(NAME_RE, s, i);
    const op = num || name ? undefined : OPS.find((o) => s.startsWith(o, i));
    if (num) toks.push({ k: 'num', v: num, pos: i, end: i + num.length });
    else if (name) toks.push({ k: 'name', v: src.slice(i, i + name.length), pos: i, end: i + name.length });
    else if (op) toks.push({ k: 'op', v: OP_ALIAS[op] ?? op, pos: i, end: i + op.length });
    else if (s[i] === '[') {
      const close = s.indexOf(']', i);
      if (close < 0) throw new FormulaError(i, 'syntax', '方括号没有闭合', 'unclosed "["');
      const text = src.slice(i + 1, close).trim();
      if (!text) throw new FormulaError(i, 'syntax', '方括号里没有名称', 'empty name in "[]"');
      toks.push({ k: 'name', v: text, pos: i, end: close + 1 });
    } else {
      const ch = String.fromCodePoint(src.codePointAt(i)!);
      throw new FormulaError(i, 'syntax', `无法识别的字符 “${ch}”`, `unexpected character "${ch}"`);
    }
    i = toks[toks.length - 1].end;
  }
  toks.push({ k: 'eof', v: '', pos: s.length, end: s.length });
  return toks;
}

// ---- Parser (Pratt) -----------------------------------------------------------------------

const INFIX: Record<string, number> = {
  '=': 10,
  '<>': 10,
  '<': 10,
  '<=': 10,
  '>': 10,
  '>=': 10,
  '+': 20,
  '-': 20,
  '*': 30,
  '/': 30,
  '^': 50,
  '%': 60,
};
/** Prefix minus binds looser than ^ and % but tighter than * and /. */
const PREFIX_BP = 40;

class Parser {
  private i = 0;
  constructor(private readonly toks: Tok[]) {}

  parse(): { name?: string; root: Node } {
    const [t0, t1] = this.toks;
    let name: string | undefined;
    if (t0.k === 'name' && t1.k === 'op' && t1.v === '=') {
      name = t0.v;
      this.i = 2;
    } else if (t0.k === 'op' && t0.v === '=') this.i = 1;
    const root = this.expr(0);
    if (this.tok.k !== 'eof') throw this.unexpected();
    return { name, root };
  }

  private get tok(): Tok {
    return this.toks[this.i];
  }

  private isOp(v: string): boolean {
    return this.tok.k === 'op' && this.tok.v === v;
  }

  private expr(minBp: number): Node {
    let left = this.prefix();
    let compared = false;
    for (;;) {
      const t = this.tok;
      const bp = t.k === 'op' ? INFIX[t.v] : undefined;
      if (bp === undefined || bp <= minBp) return left;
      this.i++;
      if (t.v === '%') {
        left = { t: 'pct', a: left, pos: t.pos };
        continue;
      }
      if (CMP.has(t.v)) {
        // Excel would compare TRUE/FALSE with the next operand: never what was meant.
        if (compared)
          throw new FormulaError(
            t.pos,
            'syntax',
            '比较运算不能连写,请加括号',
            'comparisons cannot be chained; add parentheses',
          );
        compared = true;
      }
      const right = this.expr(t.v === '^' ? bp - 1 : bp);
      left = { t: 'bin', op: t.v as BinOp, a: left, b: right, pos: t.pos };
    }
  }

  private prefix(): Node {
    const t = this.tok;
    if (t.k === 'num') {
      this.i++;
      const v = Number(t.v);
      if (!Number.isFinite(v))
        throw new FormulaError(t.pos, 'syntax', `数值超出范围 “${t.v}”`, `number out of range "${t.v}"`);
      return { t: 'num', v, pos: t.pos };
    }
    if (t.k === 'name') {
      this.i++;
      return this.isOp('(') ? this.call(t) : { t: 'ref', name: t.v, pos: t.pos };
    }
    if (t.k === 'op' && (t.v === '-' || t.v === '+')) {
      this.i++;
      const a = this.expr(PREFIX_BP);
      return t.v === '-' ? { t: 'neg', a, pos: t.pos } : a;
    }
    if (t.k === 'op' && t.v === '(') {
      this.i++;
      const a = this.expr(0);
      this.close(t);
      return a;
    }
    if (t.k === 'eof') {
      const prev = this.toks[this.i - 1];
      if (!prev) throw new FormulaError(0, 'syntax', '公式为空', 'empty formula');
      throw new FormulaError(prev.pos, 'syntax', `“${prev.v}” 后面缺少内容`, `nothing after "${prev.v}"`);
    }
    throw new FormulaError(
      t.pos,
      'syntax',
      `此处应为数值或名称,而不是 “${t.v}”`,
      `expected a number or a name, found "${t.v}"`,
    );
  }

  private call(nameTok: Tok): Node {
    const fn = nameTok.v.toUpperCase();
    if (!Object.hasOwn(FORMULA_FUNCTIONS, fn)) {
      throw new FormulaError(
        nameTok.pos,
        'unknown_function',
        `未知函数 “${nameTok.v}”`,
        `unknown function "${nameTok.v}"`,
      );
    }
    const open = this.tok;
    this.i++;
    const args: Node[] = [];
    if (!this.isOp(')')) {
      args.push(this.expr(0));
      while (this.isOp(',')) {
        this.i++;
        args.push(this.expr(0));
      }
    }
    this.close(open);
    const [lo, hi] = FORMULA_FUNCTIONS[fn as Fn];
    if (args.length < lo || args.length > hi) {
      const zh = hi === Infinity ? `至少 ${lo} 个` : lo === hi ? `${lo} 个` : `${lo} 到 ${hi} 个`;
      const en = hi === Infinity ? `at least ${lo}` : lo === hi ? `${lo}` : `${lo} to ${hi}`;
      throw new FormulaError(
        nameTok.pos,
        'arity',
        `${fn} 需要 ${zh}参数,这里有 ${args.length} 个`,
        `${fn} takes ${en} argument(s), got ${args.length}`,
      );
    }
    return { t: 'call', fn: fn as Fn, args, pos: nameTok.pos };
  }

  private close(open: Tok): void {
    if (this.isOp(')')) this.i++;
    else if (this.tok.k === 'eof') throw new FormulaError(open.pos, 'syntax', '括号没有闭合', 'unclosed "("');
    else throw this.unexpected();
  }

  /** At a token where an operator, ")" or the end was expected. */
  private unexpected(): FormulaError {
    const t = this.tok;
    if (t.k === 'op' && t.v === ')')
      return new FormulaError(t.pos, 'syntax', '多余的右括号 “)”', 'unmatched ")"');
    if (t.k === 'op' && t.v !== '(')
      return new FormulaError(t.pos, 'syntax', `意外的 “${t.v}”`, `unexpected "${t.v}"`);
    const prev = this.toks[this.i - 1];
    if (t.k === 'name' && prev?.k === 'num' && prev.end === t.pos) {
      return new FormulaError(
        t.pos,
        'syntax',
        '缺少运算符(以数字开头的名称请写在方括号里,如 [7日复购率])',
        'missing operator (put names that start with a digit in brackets, e.g. [7日复购率])',
      );
    }
    return new FormulaError(t.pos, 'syntax', '缺少运算符', 'missing operator');
  }
}

// ---- Formula ------------------------------------------------------------------------------

export interface BindOptions {
  /** Names that resolve to themselves, before `resolve`: score components, other computed fields. */
  names?: Iterable<string>;
  /** name → canonical name, undefined when unknown; default: the metric catalog (id, zh, en). */
  resolve?: (name: string) => string | undefined;
}

export const catalogResolver = (name: string): string | undefined => resolveMetric(name)?.id;

export type Lookup = (name: string) => number | null | undefined;

export class Formula {
  readonly source: string;
  /** From a leading `名称 =`. */
  readonly name: string | undefined;
  /** Distinct names in order of first use: as written, or canonical after `bind`. */
  readonly references: readonly string[];
  readonly occurrences: readonly { name: string; position: number }[];
  readonly #root: Node;

  /** @internal use parseFormula / compileFormula */
  constructor(source: string, name: string | undefined, root: Node) {
    this.source = source;
    this.name = name;
    this.#root = root;
    const occ: { name: string; position: number }[] = [];
    walk(root, (n) => n.t === 'ref' && occ.push({ name: n.name, position: n.pos }));
    this.occurrences = occ;
    this.references = [...new Set(occ.map((o) => o.name))];
  }

  /**
   * Checks every name and returns the formula over canonical names (解决率 → resolution_rate), so
   * `evaluate` and `toExcel` are asked for catalog ids. Throws at the first unknown name.
   */
  bind(options: BindOptions = {}): Formula {
    const extra = new Set(options.names ?? []);
    const resolve = options.resolve ?? catalogResolver;
    const canonical = new Map<string, string>();
    for (const { name, position } of this.occurrences) {
      const c = extra.has(name) ? name : resolve(name);
      if (c === undefined)
        throw new FormulaError(position, 'unknown_name', `未知名称 “${name}”`, `unknown name "${name}"`);
      canonical.set(name, c);
    }
    const self =
      this.name === undefined
        ? undefined
        : extra.has(this.name)
          ? this.name
          : (resolve(this.name) ?? this.name);
    const selfUse = this.occurrences.find((o) => canonical.get(o.name) === self);
    if (selfUse) {
      throw new FormulaError(
        selfUse.position,
        'self_reference',
        `公式引用了它自己 “${selfUse.name}”`,
        `the formula refers to itself ("${selfUse.name}")`,
      );
    }
    return new Formula(
      this.source,
      this.name,
      mapRefs(this.#root, (n) => canonical.get(n)!),
    );
  }

  /** `lookup` gets each referenced name; null/undefined/non-finite values are empty. */
  evaluate(lookup: Lookup): number | null {
    return evaluate(this.#root, lookup);
  }

  /**
   * The same computation as an Excel formula (without the leading "=") over the cells `cellFor`
   * names, giving "" where `evaluate` gives null; see ExcelWriter for how.
   */
  toExcel(cellFor: (name: string) => string): string {
    return new ExcelWriter(cellFor).top(this.#root);
  }

  /** The expression without its `名称 =`, in canonical spelling, names renamed by `nameFor`. */
  expression(nameFor: (name: string) => string = (n) => n): string {
    return show(this.#root, nameFor).text;
  }

  toString(): string {
    const text = this.expression();
    if (this.name !== undefined) return `${formatName(this.name)} = ${text}`;
    // A comparison such as `a = 0` would read back as an assignment named a: keep its parentheses.
    return parseFormula(text).name === undefined ? text : `(${text})`;
  }
}

/** Syntax only: names are not checked (see `Formula.bind`). Throws FormulaError. */
export function parseFormula(src: string): Formula {
  const { name, root } = new Parser(tokenize(src)).parse();
  return new Formula(src, name, root);
}

/** parseFormula + bind: the usual entry point. */
export function compileFormula(src: string, options?: BindOptions): Formula {
  return parseFormula(src).bind(options);
}

/** A name as the language reads it back: bare when it is an identifier, else in brackets. */
export function formatName(name: string): string {
  if (/^[\p{L}\p{M}_][\p{L}\p{M}\p{N}_]*$/u.test(narrow(name)) && narrow(name) === name) return name;
  if (/[\]】］]/.test(name) || !name.trim())
    throw new Error(`名称不能包含 “]” / a name cannot contain "]": ${name}`);
  return `[${name}]`;
}

function walk(n: Node, visit: (n: Node) => unknown): void {
  visit(n);
  if (n.t === 'neg' || n.t === 'pct') walk(n.a, visit);
  else if (n.t === 'bin') {
    walk(n.a, visit);
    walk(n.b, visit);
  } else if (n.t === 'call') for (const a of n.args) walk(a, visit);
}

function mapRefs(n: Node, rename: (name: string) => string): Node {
  switch (n.t) {
    case 'num':
      return n;
    case 'ref':
      return { ...n, name: rename(n.name) };
    case 'neg':
    case 'pct':
      return { ...n, a: mapRefs(n.a, rename) };
    case 'bin':
      return { ...n, a: mapRefs(n.a, rename), b: mapRefs(n.b, rename) };
    case 'call':
      return { ...n, args: n.args.map((a) => mapRefs(a, rename)) };
  }
}

// ---- Evaluation ---------------------------------------------------------------------------

const finite = (v: number | null | undefined): number | null =>
  typeof v === 'number' && Number.isFinite(v) ? v + 0 : null; // + 0 turns -0 into 0

function evaluate(n: Node, look: Lookup): number | null {
  switch (n.t) {
    case 'num':
      return n.v;
    case 'ref':
      return finite(look(n.name));
    case 'neg':
    case 'pct': {
      const a = evaluate(n.a, look);
      return a === null ? null : finite(n.t === 'neg' ? -a : a / 100);
    }
    case 'bin': {
      const a = evaluate(n.a, look);
      const b = evaluate(n.b, look);
      return a === null || b === null ? null : finite(binary(n.op, a, b));
    }
    case 'call':
      return call(n.fn, n.args, look);
  }
}

function binary(op: BinOp, a: number, b: number): number {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return b === 0 ? Number.NaN : a / b;
    case '^':
      return a ** b;
    case '=':
      return +(a === b);
    case '<>':
      return +(a !== b);
    case '<':
      return +(a < b);
    case '<=':
      return +(a <= b);
    case '>':
      return +(a > b);
    case '>=':
      return +(a >= b);
  }
}

function call(fn: Fn, args: Node[], look: Lookup): number | null {
  const arg = (i: number) => evaluate(args[i], look);
  switch (fn) {
    case 'IF': {
      const c = arg(0);
      if (c === null) return null;
      return c !== 0 ? arg(1) : args.length > 2 ? arg(2) : null;
    }
    case 'ISBLANK':
      return arg(0) === null ? 1 : 0;
    case 'NOT': {
      const a = arg(0);
      return a === null ? null : +(a === 0);
    }
    case 'ABS': {
      const a = arg(0);
      return a === null ? null : Math.abs(a);
    }
    case 'ROUND': {
      const x = arg(0);
      const d = args.length > 1 ? arg(1) : 0;
      return x === null || d === null ? null : finite(round(x, Math.max(-300, Math.min(300, Math.trunc(d)))));
    }
  }
  const vs = args.map((a) => evaluate(a, look)).filter((v): v is number => v !== null);
  if (vs.length === 0) return null;
  switch (fn) {
    case 'MIN':
      return Math.min(...vs);
    case 'MAX':
      return Math.max(...vs);
    case 'AND':
      return +vs.every((v) => v !== 0);
    case 'OR':
      return +vs.some((v) => v !== 0);
  }
  const sum = vs.reduce((s, v) => s + v, 0);
  return finite(fn === 'SUM' ? sum : sum / vs.length);
}

/**
 * Excel's ROUND: halves away from zero, on the decimal the user sees (ROUND(2.675, 2) = 2.68, where
 * 2.675 * 100 = 267.49999…); shifting the exponent in the decimal string avoids that error.
 */
function round(x: number, d: number): number {
  const shifted = Number(`${Math.round(Number(`${Math.abs(x)}e${d}`))}e${-d}`);
  const r = Number.isFinite(shifted) ? shifted : Math.round(Math.abs(x) * 10 ** d) / 10 ** d;
  return Math.sign(x) * r;
}

// ---- Printing in the formula language -----------------------------------------------------

interface Out {
  text: string;
  prec: number;
}
const P = { cmp: 1, add: 2, mul: 3, neg: 4, pow: 5, pct: 6, atom: 9 };
const fmtNum = (v: number): string => String(v).toUpperCase();
const paren = (o: Out, min: number): string => (o.prec < min ? `(${o.text})` : o.text);

function show(n: Node, nameFor: (name: string) => string): Out {
  const sub = (m: Node, min: number) => paren(show(m, nameFor), min);
  switch (n.t) {
    case 'num':
      return n.v < 0 ? { text: `-${fmtNum(-n.v)}`, prec: P.neg } : { text: fmtNum(n.v), prec: P.atom };
    case 'ref':
      return { text: formatName(nameFor(n.name)), prec: P.atom };
    case 'neg':
      return { text: `-${sub(n.a, P.neg)}`, prec: P.neg };
    case 'pct':
      return { text: `${sub(n.a, P.pct)}%`, prec: P.pct };
    case 'bin': {
      if (CMP.has(n.op))
        return { text: `${sub(n.a, P.cmp + 1)} ${n.op} ${sub(n.b, P.cmp + 1)}`, prec: P.cmp };
      if (n.op === '^') return { text: `${sub(n.a, P.pow + 1)}^${sub(n.b, P.pow)}`, prec: P.pow };
      const p = n.op === '*' || n.op === '/' ? P.mul : P.add;
      return { text: `${sub(n.a, p)} ${n.op} ${sub(n.b, p + 1)}`, prec: p };
    }
    case 'call':
      return { text: `${n.fn}(${n.args.map((a) => show(a, nameFor).text).join(', ')})`, prec: P.atom };
  }
}

// ---- Excel --------------------------------------------------------------------------------

/**
 * Excel has no null: a blank cell is 0 in arithmetic, "" is an error there, MIN/SUM… skip blank
 * cells but reject "" arguments, and booleans compare unequal to numbers. To give "" exactly where
 * `evaluate` gives null, the conditions that make an expression null (a referenced cell is blank,
 * a divisor is 0, an IF or MIN… is itself empty) are collected innermost first and tested before
 * the expression, at the top and at each point where null does not propagate (IF branches,
 * MIN/SUM… arguments, which get a neutral stand-in instead of ""). Conditions are nested IFs, so
 * none is evaluated where an earlier one would make it fail; runs of ones that cannot fail are
 * merged into an OR. Known differences: a power that overflows or has no real value is #NUM!
 * in Excel and null here.
 */
interface Cond {
  text: string;
  /** Cannot fail whatever the cells hold (no division, power or function inside). */
  safe: boolean;
}

const X = { cmp: 1, add: 2, mul: 3, pow: 4, pct: 5, neg: 6, atom: 9 };
const STAND_IN: Record<Aggregate, string> = {
  SUM: '0',
  AVERAGE: '0',
  MIN: '1E+307',
  MAX: '-1E+307',
  AND: 'TRUE',
  OR: 'FALSE',
};

const isBool = (n: Node): boolean =>
  (n.t === 'bin' && CMP.has(n.op)) ||
  (n.t === 'call' &&
    (['AND', 'OR', 'NOT', 'ISBLANK'].includes(n.fn) || (n.fn === 'IF' && n.args.slice(1).some(isBool))));

const isSafe = (n: Node): boolean =>
  n.t === 'num' ||
  n.t === 'ref' ||
  ((n.t === 'neg' || n.t === 'pct') && isSafe(n.a)) ||
  (n.t === 'bin' && n.op !== '/' && n.op !== '^' && isSafe(n.a) && isSafe(n.b));

const extend = (g: ReadonlySet<string>, cs: Cond[]): ReadonlySet<string> =>
  cs.length ? new Set([...g, ...cs.map((c) => c.text)]) : g;

function groups(cs: Cond[]): Cond[][] {
  const out: Cond[][] = [];
  for (const c of cs) {
    if (c.safe && out.length) out[out.length - 1].push(c);
    else out.push([c]);
  }
  return out;
}

const anyOf = (grp: Cond[]): string =>
  grp.length === 1 ? grp[0].text : `OR(${grp.map((c) => c.text).join(',')})`;

/** `inner`, or `whenNull` as soon as a condition holds. */
const chain = (cs: Cond[], inner: string, whenNull: string): string =>
  groups(cs).reduceRight((acc, grp) => `IF(${anyOf(grp)},${whenNull},${acc})`, inner);

class ExcelWriter {
  constructor(private readonly cell: (name: string) => string) {}

  /** Booleans become numbers, as they are here; N("") would be 0, so nulls are tested first. */
  top(n: Node): string {
    const bool = isBool(n);
    const cs = this.conds(n, new Set(), !bool);
    const body = this.expr(n, extend(new Set(), cs)).text;
    return chain(cs, bool ? `N(${body})` : body, '""');
  }

  /** A point null does not propagate through: "" when n is null. `g`: conditions known false. */
  private guarded(n: Node, g: ReadonlySet<string>): string {
    const cs = this.conds(n, g, true);
    return chain(cs, this.expr(n, extend(g, cs)).text, '""');
  }

  /**
   * Conditions, innermost first, any of which makes n null; each rendered assuming the earlier are
   * false. `atGuard`: n is tested where "" is the right answer, so an IF or MIN… at its top, being
   * "" when null already, needs no test of its own.
   */
  private conds(n: Node, g: ReadonlySet<string>, atGuard = false): Cond[] {
    const known = new Set(g);
    const out: Cond[] = [];
    const add = (c: Cond) => {
      if (known.has(c.text)) return;
      known.add(c.text);
      out.push(c);
    };
    const visit = (m: Node): void => {
      switch (m.t) {
        case 'num':
          return;
        case 'ref':
          add({ text: `${this.cell(m.name)}=""`, safe: true });
          return;
        case 'neg':
        case 'pct':
          visit(m.a);
          return;
        case 'bin':
          visit(m.a);
          visit(m.b);
          if (m.op === '/' && !(m.b.t === 'num' && m.b.v !== 0))
            add({ text: this.isZero(m.b, known), safe: isSafe(m.b) });
          return;
        case 'call':
          if (m.fn === 'ISBLANK') return;
          if (m.fn === 'ROUND' || m.fn === 'ABS' || m.fn === 'NOT') {
            for (const a of m.args) visit(a);
            return;
          }
          if (m.fn === 'IF') visit(m.args[0]);
          if (!(atGuard && m === n) && this.mayBeNull(m, known))
            add({ text: `${this.expr(m, known).text}=""`, safe: false });
      }
    };
    visit(n);
    return out;
  }

  /** For IF and the aggregates, whose nullness is not a plain union of their arguments'. */
  private mayBeNull(n: Extract<Node, { t: 'call' }>, g: ReadonlySet<string>): boolean {
    if (n.fn !== 'IF') return n.args.every((a) => this.conds(a, g).length > 0);
    const [ga, gb] = this.branchKnown(n, g);
    return (
      this.conds(n.args[0], g).length > 0 ||
      n.args.length < 3 ||
      this.conds(n.args[1], ga).length > 0 ||
      this.conds(n.args[2], gb).length > 0
    );
  }

  /** IF(ISBLANK(x), a, b): in b, x is known not to be null, so b needs no guard for it. */
  private branchKnown(
    n: Extract<Node, { t: 'call' }>,
    g: ReadonlySet<string>,
  ): [ReadonlySet<string>, ReadonlySet<string>] {
    const blankArg = (m: Node | undefined) => (m?.t === 'call' && m.fn === 'ISBLANK' ? m.args[0] : undefined);
    const c = n.args[0];
    const inElse = blankArg(c);
    const inThen = c.t === 'call' && c.fn === 'NOT' ? blankArg(c.args[0]) : undefined;
    return [inThen ? extend(g, this.conds(inThen, g)) : g, inElse ? extend(g, this.conds(inElse, g)) : g];
  }

  private isZero(n: Node, g: ReadonlySet<string>): string {
    return `${this.operand(n, g)}=0`;
  }

  /** A comparison operand: booleans become numbers, as they are here. */
  private operand(n: Node, g: ReadonlySet<string>): string {
    return isBool(n) ? `N(${this.expr(n, g).text})` : paren(this.expr(n, g), X.cmp + 1);
  }

  private nullTest(cs: Cond[]): Out {
    if (!cs.length) return { text: 'FALSE', prec: X.atom };
    const gs = groups(cs);
    if (gs.length > 1) return { text: chain(cs, 'FALSE', 'TRUE'), prec: X.atom };
    return { text: anyOf(gs[0]), prec: gs[0].length > 1 ? X.atom : X.cmp };
  }

  private expr(n: Node, g: ReadonlySet<string>): Out {
    const sub = (m: Node, min: number) => paren(this.expr(m, g), min);
    switch (n.t) {
      case 'num':
        return n.v < 0 ? { text: `-${fmtNum(-n.v)}`, prec: X.neg } : { text: fmtNum(n.v), prec: X.atom };
      case 'ref':
        return { text: this.cell(n.name), prec: X.atom };
      case 'neg':
        return { text: `-${sub(n.a, X.neg)}`, prec: X.neg };
      case 'pct':
        return { text: `${sub(n.a, X.pct)}%`, prec: X.pct };
      case 'bin': {
        if (CMP.has(n.op))
          return { text: `${this.operand(n.a, g)}${n.op}${this.operand(n.b, g)}`, prec: X.cmp };
        // Excel's operators are all left-associative: a right operand of equal rank needs parentheses.
        const p = n.op === '^' ? X.pow : n.op === '*' || n.op === '/' ? X.mul : X.add;
        const text = `${sub(n.a, p)}${n.op}${sub(n.b, p + 1)}`;
        if (n.op !== '/' || (n.b.t === 'num' && n.b.v !== 0) || g.has(this.isZero(n.b, g)))
          return { text, prec: p };
        return { text: `IF(${this.isZero(n.b, g)},"",${text})`, prec: X.atom };
      }
      case 'call':
        return this.call(n, g);
    }
  }

  private call(n: Extract<Node, { t: 'call' }>, g: ReadonlySet<string>): Out {
    const atom = (text: string): Out => ({ text, prec: X.atom });
    const [a0, a1] = n.args;
    switch (n.fn) {
      case 'IF': {
        const cs = this.conds(a0, g); // normally none: the caller has hoisted them
        const g1 = extend(g, cs);
        const [ga, gb] = this.branchKnown(n, g1);
        const elseText = n.args.length > 2 ? this.guarded(n.args[2], gb) : '""';
        return atom(chain(cs, `IF(${this.expr(a0, g1).text},${this.guarded(a1, ga)},${elseText})`, '""'));
      }
      case 'ISBLANK':
        return this.nullTest(this.conds(a0, g));
      case 'NOT':
      case 'ABS':
        return atom(`${n.fn}(${this.expr(a0, g).text})`);
      case 'ROUND':
        return atom(`ROUND(${this.expr(a0, g).text},${a1 ? this.expr(a1, g).text : '0'})`);
    }
    return this.aggregate(n.fn, n.args, g);
  }

  /** Blank cells are skipped natively; other empty arguments get a stand-in that changes nothing. */
  private aggregate(fn: Aggregate, args: Node[], g: ReadonlySet<string>): Out {
    const parts = args.map((a) => {
      const cs = this.conds(a, g);
      const text = this.expr(a, extend(g, cs)).text;
      return { cs, text: a.t === 'ref' || !cs.length ? text : chain(cs, text, STAND_IN[fn]) };
    });
    const list = parts.map((p) => p.text).join(',');
    let out: Out = { text: `${fn}(${list})`, prec: X.atom };
    if (fn === 'AVERAGE' && args.some((a, i) => a.t !== 'ref' && parts[i].cs.length)) {
      const count = parts.map((p) => (p.cs.length ? `IF(${this.nullTest(p.cs).text},0,1)` : '1')).join('+');
      out = { text: `SUM(${list})/(${count})`, prec: X.mul };
    }
    if (!parts.every((p) => p.cs.length)) return out;
    const allNull =
      parts.length === 1
        ? this.nullTest(parts[0].cs).text
        : `AND(${parts.map((p) => this.nullTest(p.cs).text).join(',')})`;
    return { text: `IF(${allNull},"",${out.text})`, prec: X.atom };
  }
}
