/**
 * An echarts option rendered to an SVG string on the server: echarts' SSR mode (no canvas, no DOM),
 * the SVG renderer, a fixed size, no animation. Used for PDFs and group-bot pushes.
 *
 * Text outlines: echarts draws a label's halo as a stroke behind the fill using SVG `paint-order`,
 * which svg-to-pdfkit ignores — it paints the (white) stroke over the glyphs and labels vanish.
 * Every text style gets textBorderWidth 0, and any stroke still left on a <text> is removed.
 */
import * as echarts from 'echarts';
import type { EChartsOption } from 'echarts';

export interface SvgSize {
  width: number;
  height: number;
}

/** Keys under which echarts takes text styles that may carry an outline. */
const TEXT_KEYS = new Set(['label', 'endLabel', 'textStyle', 'subtextStyle', 'axisLabel', 'nameTextStyle']);

/** A copy of the option with textBorderWidth 0 on every text style (functions kept as they are). */
export function withoutTextOutline<T>(value: T, key = ''): T {
  if (Array.isArray(value)) return value.map((v) => withoutTextOutline(v, key)) as T;
  if (value === null || typeof value !== 'object') return value;
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = withoutTextOutline(v, k);
  if (TEXT_KEYS.has(key)) out.textBorderWidth = 0;
  return out as T;
}

const TEXT_STROKE = /\s(?:stroke|stroke-width|stroke-linejoin|stroke-miterlimit|paint-order)="[^"]*"/g;

/** Render an option as an SVG document of exactly the given size. */
export function renderSvg(option: EChartsOption, size: SvgSize): string {
  if (!(size.width > 0 && size.height > 0))
    throw new Error(`renderSvg: size must be positive, got ${size.width}×${size.height}`);
  const chart = echarts.init(null, null, {
    renderer: 'svg',
    ssr: true,
    width: Math.round(size.width),
    height: Math.round(size.height),
  });
  try {
    chart.setOption({ ...withoutTextOutline(option), animation: false });
    return chart
      .renderToSVGString()
      .replace(/<text\b[^>]*>/g, (tag) => (tag.includes('paint-order') ? tag.replace(TEXT_STROKE, '') : tag));
  } finally {
    chart.dispose();
  }
}
