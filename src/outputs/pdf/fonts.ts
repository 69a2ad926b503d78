/**
 * The CJK font a PDF report embeds. PDF viewers do not substitute fonts for CJK text the way a
 * browser does: without an embedded CJK font every Chinese character prints as an empty box (tofu).
 * So a report either finds a CJK font or refuses, with an error that names the package to install —
 * it never writes a PDF of boxes.
 *
 * Order: CSPULSE_PDF_FONT (a .ttf/.otf path, or "path.ttc#PostScriptName"), then Noto Sans CJK where
 * Debian/Ubuntu (fonts-noto-cjk), Fedora and Arch put it, then Droid Sans Fallback.
 */
import { existsSync } from 'node:fs';

export interface CjkFont {
  path: string;
  /** PostScript name of the face inside a collection (.ttc); absent for single-face files. */
  family?: string;
}

const noto = (dir: string): CjkFont => ({
  path: `${dir}/NotoSansCJK-Regular.ttc`,
  family: 'NotoSansCJKsc-Regular',
});

export const CJK_FONT_CANDIDATES: readonly CjkFont[] = [
  noto('/usr/share/fonts/opentype/noto'),
  noto('/usr/share/fonts/google-noto-cjk'),
  noto('/usr/share/fonts/noto-cjk'),
  { path: '/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf' },
];

export class PdfFontError extends Error {}

const MISSING =
  '找不到中文字体,PDF 中的中文会变成方框,因此未生成 PDF。请安装 Noto Sans CJK' +
  '(Debian/Ubuntu:apt-get install fonts-noto-cjk),或用环境变量 CSPULSE_PDF_FONT 指定字体文件。' +
  ' / No CJK font found: Chinese text would print as empty boxes, so no PDF was written. Install Noto' +
  ' Sans CJK (Debian/Ubuntu: apt-get install fonts-noto-cjk) or point CSPULSE_PDF_FONT at a font file' +
  ' (.ttf/.otf, or file.ttc#PostScriptName).';

/** The font to embed, or a PdfFontError that says what to install. */
export function findCjkFont(
  env: Record<string, string | undefined> = process.env,
  candidates: readonly CjkFont[] = CJK_FONT_CANDIDATES,
  exists: (path: string) => boolean = existsSync,
): CjkFont {
  const given = env.CSPULSE_PDF_FONT?.trim();
  if (given) {
    const hash = given.lastIndexOf('#');
    const path = hash > 0 ? given.slice(0, hash) : given;
    const family = hash > 0 ? given.slice(hash + 1) : undefined;
    if (!exists(path))
      throw new PdfFontError(
        `CSPULSE_PDF_FONT: 字体文件不存在 / font file not found: "${path}" (expected a .ttf/.otf, or file.ttc#PostScriptName)`,
      );
    if (/\.ttc$/i.test(path) && !family)
      throw new PdfFontError(
        `CSPULSE_PDF_FONT: "${path}" 是字体集合,请写成 "${path}#PostScript名" / is a font collection: write "${path}#PostScriptName", e.g. NotoSansCJKsc-Regular`,
      );
    return { path, ...(family ? { family } : {}) };
  }
  for (const c of candidates) if (exists(c.path)) return c;
  throw new PdfFontError(MISSING);
}
