/**
 * The workbook's styles: one fixed table of cell formats (every sheet picks from it by name) and
 * the differential formats conditional formatting needs, added per template.
 */
import type { MetricUnit } from '../../metrics/catalog.ts';
import { esc, NS_MAIN, XML_HEAD } from './xml.ts';

const NUM_FMTS = {
  duration: '[mm]:ss',
  percent: '0.0%',
  rating: '0.00',
  score: '0.0',
  amount: '#,##0.00',
  datetime: 'yyyy-mm-dd hh:mm:ss',
  yesNo: '"是";"是";"否"',
  change: '+0.00;-0.00;0',
} as const;
type NumFmt = keyof typeof NUM_FMTS;
const NUM_FMT_ID: Record<NumFmt, number> = Object.fromEntries(
  Object.keys(NUM_FMTS).map((k, i) => [k, 164 + i]),
) as Record<NumFmt, number>;

/** Fonts: 0 normal, 1 bold, 2 green bold, 3 red bold, 4 grey, 5 title. */
const FONTS = [
  '<font><sz val="11"/><name val="等线"/><family val="2"/><charset val="134"/></font>',
  '<font><b/><sz val="11"/><name val="等线"/><family val="2"/><charset val="134"/></font>',
  '<font><b/><sz val="11"/><color rgb="FF00B050"/><name val="等线"/><family val="2"/><charset val="134"/></font>',
  '<font><b/><sz val="11"/><color rgb="FFC00000"/><name val="等线"/><family val="2"/><charset val="134"/></font>',
  '<font><sz val="11"/><color rgb="FF808080"/><name val="等线"/><family val="2"/><charset val="134"/></font>',
  '<font><b/><sz val="14"/><name val="等线"/><family val="2"/><charset val="134"/></font>',
];
/** Fills 0 and 1 are required by Excel; 2 is the header grey, 3 the section blue. */
const FILLS = [
  '<fill><patternFill patternType="none"/></fill>',
  '<fill><patternFill patternType="gray125"/></fill>',
  '<fill><patternFill patternType="solid"><fgColor rgb="FFD9D9D9"/><bgColor indexed="64"/></patternFill></fill>',
  '<fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/><bgColor indexed="64"/></patternFill></fill>',
];

interface Xf {
  numFmt?: NumFmt;
  font?: number;
  fill?: number;
  wrap?: boolean;
  center?: boolean;
}

/** Every cell format of the workbook, by name; the index is the `s` of a cell. */
const XFS = {
  default: {},
  header: { font: 1, fill: 2, wrap: true, center: true },
  text: {},
  number: {},
  duration: { numFmt: 'duration' },
  percent: { numFmt: 'percent' },
  rating: { numFmt: 'rating' },
  score: { numFmt: 'score' },
  amount: { numFmt: 'amount' },
  datetime: { numFmt: 'datetime' },
  yesNo: { numFmt: 'yesNo', center: true },
  bold: { font: 1 },
  boldNumber: { font: 1 },
  boldDuration: { numFmt: 'duration', font: 1 },
  boldPercent: { numFmt: 'percent', font: 1 },
  boldRating: { numFmt: 'rating', font: 1 },
  boldScore: { numFmt: 'score', font: 1 },
  boldAmount: { numFmt: 'amount', font: 1 },
  up: { font: 2, center: true },
  down: { font: 3, center: true },
  flat: { font: 4, center: true },
  title: { font: 5 },
  wrap: { wrap: true },
  section: { font: 1, fill: 3 },
  note: { font: 4, wrap: true },
  change: { numFmt: 'change' },
} satisfies Record<string, Xf>;
export type StyleName = keyof typeof XFS;
export const S: Record<StyleName, number> = Object.fromEntries(
  Object.keys(XFS).map((k, i) => [k, i]),
) as Record<StyleName, number>;

/** The number format of a metric's unit; `bold` for the total row. */
export function unitStyle(unit: MetricUnit | 'text', bold = false): number {
  const plain: Record<MetricUnit | 'text', StyleName> = {
    count: 'number',
    seconds: 'duration',
    rate: 'percent',
    rating: 'rating',
    amount: 'amount',
    score: 'score',
    text: 'text',
  };
  const boldOf: Record<MetricUnit | 'text', StyleName> = {
    count: 'boldNumber',
    seconds: 'boldDuration',
    rate: 'boldPercent',
    rating: 'boldRating',
    amount: 'boldAmount',
    score: 'boldScore',
    text: 'bold',
  };
  return S[(bold ? boldOf : plain)[unit]];
}

/** Cell values are stored in Excel's units: durations as days, so that [mm]:ss reads them. */
export function toCellValue(unit: MetricUnit, v: number | null): number | null {
  if (v === null || !Number.isFinite(v)) return null;
  return unit === 'seconds' ? v / 86_400 : v;
}

const NAMED_COLOURS: Record<string, string> = {
  red: 'FFC7CE',
  green: 'C6EFCE',
  yellow: 'FFEB9C',
  orange: 'F8CBAD',
  blue: 'DDEBF7',
  grey: 'D9D9D9',
  gray: 'D9D9D9',
  红: 'FFC7CE',
  绿: 'C6EFCE',
  黄: 'FFEB9C',
  橙: 'F8CBAD',
  蓝: 'DDEBF7',
  灰: 'D9D9D9',
};

/** '#FFC7CE', 'FFC7CE', 'FFFFC7CE' or a colour name → ARGB; an error names what was expected. */
export function argb(colour: string): string {
  const c = colour.trim();
  const named = NAMED_COLOURS[c.toLowerCase()];
  if (named) return `FF${named}`;
  const hex = c.replace(/^#/, '');
  if (/^[0-9a-f]{6}$/i.test(hex)) return `FF${hex.toUpperCase()}`;
  if (/^[0-9a-f]{8}$/i.test(hex)) return hex.toUpperCase();
  throw new Error(
    `颜色 “${colour}” 无法识别,应为 #RRGGBB 或 red/green/yellow/orange/blue/grey / colour "${colour}": expected #RRGGBB or a colour name`,
  );
}

/** Differential formats (conditional formatting fills), collected while the sheets are built. */
export class Dxfs {
  private readonly list: string[] = [];

  fill(colour: string): number {
    const xml = `<dxf><fill><patternFill patternType="solid"><fgColor rgb="${argb(colour)}"/><bgColor rgb="${argb(colour)}"/></patternFill></fill></dxf>`;
    const i = this.list.indexOf(xml);
    if (i >= 0) return i;
    this.list.push(xml);
    return this.list.length - 1;
  }

  xml(): string {
    return `<dxfs count="${this.list.length}">${this.list.join('')}</dxfs>`;
  }
}

export function stylesXml(dxfs: Dxfs): string {
  const fmts = (Object.keys(NUM_FMTS) as NumFmt[])
    .map((k) => `<numFmt numFmtId="${NUM_FMT_ID[k]}" formatCode="${esc(NUM_FMTS[k])}"/>`)
    .join('');
  const xfs = Object.values(XFS as Record<string, Xf>)
    .map((x) => {
      const attrs = [
        `numFmtId="${x.numFmt ? NUM_FMT_ID[x.numFmt] : 0}"`,
        `fontId="${x.font ?? 0}"`,
        `fillId="${x.fill ?? 0}"`,
        'borderId="0"',
        'xfId="0"',
      ];
      if (x.numFmt) attrs.push('applyNumberFormat="1"');
      if (x.font) attrs.push('applyFont="1"');
      if (x.fill) attrs.push('applyFill="1"');
      const align =
        x.wrap || x.center
          ? `<alignment${x.wrap ? ' wrapText="1"' : ''}${x.center ? ' horizontal="center"' : ''} vertical="top"/>`
          : '';
      return align ? `<xf ${attrs.join(' ')} applyAlignment="1">${align}</xf>` : `<xf ${attrs.join(' ')}/>`;
    })
    .join('');
  return (
    `${XML_HEAD}<styleSheet xmlns="${NS_MAIN}">` +
    `<numFmts count="${Object.keys(NUM_FMTS).length}">${fmts}</numFmts>` +
    `<fonts count="${FONTS.length}">${FONTS.join('')}</fonts>` +
    `<fills count="${FILLS.length}">${FILLS.join('')}</fills>` +
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>' +
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>' +
    `<cellXfs count="${Object.keys(XFS).length}">${xfs}</cellXfs>` +
    '<cellStyles count="1"><cellStyle name="常规" xfId="0" builtinId="0"/></cellStyles>' +
    `${dxfs.xml()}<tableStyles count="0" defaultTableStyle="TableStyleMedium2" defaultPivotStyle="PivotStyleLight16"/>` +
    '</styleSheet>'
  );
}
