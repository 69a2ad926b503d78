/** 环比 wording by unit and direction, and where the CJK font comes from — hand-checked cases. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { metricById } from '../../metrics/catalog.ts';
import { CJK_FONT_CANDIDATES, findCjkFont, PdfFontError } from './fonts.ts';
import { describeChange } from './headline.ts';

const def = (id: string) => metricById(id)!;

describe('环比', () => {
  it('moves rates in percentage points, counts and durations relative to the previous value', () => {
    // 80% → 85%: +5 points, resolution is better higher.
    expect(describeChange(def('resolution_rate'), 0.85, 0.8)).toEqual({
      text: '环比 ↑5.0 个百分点',
      tone: 'better',
    });
    // 60 s → 45 s: −25%, and a shorter first response is better.
    expect(describeChange(def('frt_avg_s'), 45, 60)).toEqual({ text: '环比 ↓25.0%', tone: 'better' });
    // 100 → 112 conversations: +12%, neither good nor bad.
    expect(describeChange(def('conversations'), 112, 100)).toEqual({ text: '环比 ↑12.0%', tone: 'neutral' });
    // CSAT 4.10 → 3.95: −0.15 on the scale.
    expect(describeChange(def('csat_avg'), 3.95, 4.1)).toEqual({ text: '环比 ↓0.15', tone: 'worse' });
    // Missed rate 2% → 3.5%: +1.5 points, worse (lower is better).
    expect(describeChange(def('missed_rate'), 0.035, 0.02)).toEqual({
      text: '环比 ↑1.5 个百分点',
      tone: 'worse',
    });
  });

  it('says — when either side has nothing to measure or the base is 0, 持平 when nothing moved', () => {
    expect(describeChange(def('frt_avg_s'), 45, null)).toEqual({ text: '环比 —', tone: 'none' });
    expect(describeChange(def('frt_avg_s'), null, 45)).toEqual({ text: '环比 —', tone: 'none' });
    expect(describeChange(def('conversations'), 5, 0)).toEqual({ text: '环比 —', tone: 'none' });
    expect(describeChange(def('conversations'), 0, 0)).toEqual({ text: '环比 持平', tone: 'neutral' });
    expect(describeChange(def('resolution_rate'), 0.8, 0.8)).toEqual({ text: '环比 持平', tone: 'neutral' });
    // 0.80004 vs 0.8: below the printed precision, so 持平 rather than "↑0.0".
    expect(describeChange(def('resolution_rate'), 0.80004, 0.8).text).toBe('环比 持平');
  });
});

describe('the CJK font', () => {
  it('is Noto Sans CJK SC on this machine (Debian fonts-noto-cjk), with its bold face', () => {
    const f = findCjkFont({});
    expect(f).toEqual(CJK_FONT_CANDIDATES[0]);
    expect(f.family).toBe('NotoSansCJKsc-Regular');
  });

  it('is refused with the package to install when there is none, never replaced by a font without CJK', () => {
    const none = () => findCjkFont({}, CJK_FONT_CANDIDATES, () => false);
    expect(none).toThrow(PdfFontError);
    expect(none).toThrow(/apt-get install fonts-noto-cjk/);
    expect(none).toThrow(/CSPULSE_PDF_FONT/);
  });

  it('comes from CSPULSE_PDF_FONT when set, with a clear error for a missing file or a collection without a face', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cspulse-font-'));
    try {
      const ttf = join(dir, 'my.ttf');
      const ttc = join(dir, 'my.ttc');
      writeFileSync(ttf, '');
      writeFileSync(ttc, '');
      expect(findCjkFont({ CSPULSE_PDF_FONT: ttf })).toEqual({ path: ttf });
      expect(findCjkFont({ CSPULSE_PDF_FONT: `${ttc}#Face-Regular` })).toEqual({
        path: ttc,
        family: 'Face-Regular',
      });
      expect(() => findCjkFont({ CSPULSE_PDF_FONT: ttc })).toThrow(/font collection/);
      expect(() => findCjkFont({ CSPULSE_PDF_FONT: join(dir, 'nope.otf') })).toThrow(
        /CSPULSE_PDF_FONT.*font file not found.*nope\.otf/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
