/** SpreadsheetML text: escaping, cell references, cells. */

export const NS_MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
export const NS_R = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
export const NS_PKG_REL = 'http://schemas.openxmlformats.org/package/2006/relationships';
export const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
export const XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';

// Characters XML 1.0 cannot carry (control characters, lone surrogates, U+FFFE/FFFF): a chat
// message may hold any of them, and one would make the whole file unreadable.
const BAD =
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const SPECIAL = /[&<>"\u0000-\u0008\u000b\u000c\u000e-\u001f\ud800-\udfff\ufffe\uffff]/;

export function esc(s: string): string {
  if (!SPECIAL.test(s)) return s;
  return s
    .replace(BAD, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** 0 → A, 25 → Z, 26 → AA. */
export function colName(i: number): string {
  let n = i + 1;
  let s = '';
  while (n > 0) {
    const r = (n - 1) % 26;
    s = String.fromCharCode(65 + r) + s;
    n = Math.floor((n - 1) / 26);
  }
  return s;
}

export const cellRef = (col: number, row: number): string => `${colName(col)}${row}`;
export const absRef = (col: number, row: number): string => `$${colName(col)}$${row}`;

/** A sheet name inside a formula or a defined name. */
export const quoteSheet = (name: string): string => `'${name.replace(/'/g, "''")}'`;

/** Excel cell text is limited to 32,767 characters. */
const MAX_TEXT = 32_767;

export function textCell(v: string, style: number, ref?: string): string {
  const t = v.length > MAX_TEXT ? `${v.slice(0, MAX_TEXT - 1)}…` : v;
  const space = /^\s|\s$|\n/.test(t) ? ' xml:space="preserve"' : '';
  return `<c${ref ? ` r="${ref}"` : ''} s="${style}" t="inlineStr"><is><t${space}>${esc(t)}</t></is></c>`;
}

export function numberCell(v: number, style: number, ref?: string): string {
  return `<c${ref ? ` r="${ref}"` : ''} s="${style}"><v>${v}</v></c>`;
}

export function emptyCell(style: number, ref?: string): string {
  return `<c${ref ? ` r="${ref}"` : ''} s="${style}"/>`;
}

/** A value that is a number, text or empty. */
export function valueCell(v: number | string | null | undefined, style: number, ref?: string): string {
  if (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v)))
    return emptyCell(style, ref);
  return typeof v === 'number' ? numberCell(v, style, ref) : textCell(v, style, ref);
}

/** A live formula with its cached value ("" when empty, as the formula itself gives). */
export function formulaCell(formula: string, cached: number | null, style: number, ref?: string): string {
  const r = ref ? ` r="${ref}"` : '';
  if (cached === null || !Number.isFinite(cached))
    return `<c${r} s="${style}" t="str"><f>${esc(formula)}</f><v></v></c>`;
  return `<c${r} s="${style}"><f>${esc(formula)}</f><v>${cached}</v></c>`;
}

/** Local wall-clock milliseconds → Excel serial date (1900 system). */
export const excelDate = (localMs: number): number => localMs / 86_400_000 + 25_569;
