/**
 * `npm run bench:pdf`: the PDF report (issue 4 budget: a PDF with three charts in under 1 s).
 *
 * A demo team (BENCH_PDF_AGENTS × BENCH_PDF_DAYS, default 30 × 30) is loaded into a fresh SQLite file,
 * the monthly HR template's bundle is built once, then writePdf is timed: the first call in the
 * process (cold: echarts, the font file and its tables loaded) and the median of BENCH_PDF_RUNS warm
 * calls. The baseline, measured in the same run, is pdfkit alone writing one line of Chinese with the
 * same embedded font: what any CJK PDF costs here before tables and charts.
 *
 *   BENCH_PDF_KEEP=DIR keeps the last PDF in DIR.
 */
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import PDFDocument from 'pdfkit';
import { loadDemo } from '../src/demo/load.ts';
import { buildBundle } from '../src/outputs/bundle.ts';
import { findCjkFont } from '../src/outputs/pdf/fonts.ts';
import { writePdf } from '../src/outputs/pdf/report.ts';
import { BUILTIN_TEMPLATES } from '../src/outputs/templates.ts';
import { DEFAULT_VIEWER } from '../src/outputs/viewer.ts';
import { openStore } from '../src/store/db.ts';

const AGENTS = Number(process.env.BENCH_PDF_AGENTS ?? 30);
const DAYS = Number(process.env.BENCH_PDF_DAYS ?? 30);
const RUNS = Number(process.env.BENCH_PDF_RUNS ?? 9);
const END = '2025-11-30';

const dir = mkdtempSync(join(tmpdir(), 'cspulse-bench-pdf-'));
const outDir = process.env.BENCH_PDF_KEEP ?? dir;
try {
  const store = await openStore(join(dir, 'bench.db'));
  const t0 = performance.now();
  const events = await loadDemo(store, { agents: AGENTS, days: DAYS, seed: 7, end: END });
  const loadS = (performance.now() - t0) / 1000;
  const template = BUILTIN_TEMPLATES.find((t) => t.name === 'HR月度考核')!;
  const from = new Date(Date.parse(`${END}T00:00:00Z`) - (DAYS - 1) * 86_400_000).toISOString().slice(0, 10);
  const t1 = performance.now();
  const bundle = await buildBundle(store, {
    template,
    period: { from, to: END, label: `${from}..${END}` },
    viewer: DEFAULT_VIEWER,
  });
  const bundleMs = performance.now() - t1;
  await store.close();

  const font = findCjkFont();
  const baseline = async (): Promise<number> => {
    const t = performance.now();
    const doc = new PDFDocument({ size: 'A4' });
    const out = createWriteStream(join(dir, 'baseline.pdf'));
    const done = new Promise<void>((r) => out.on('finish', () => r()));
    doc.pipe(out);
    doc.registerFont('cjk', font.path, font.family);
    doc.font('cjk').fontSize(12).text('客服绩效月度考核 2025-11');
    doc.end();
    await done;
    return performance.now() - t;
  };
  const cpu: number[] = [];
  const report = async (): Promise<number> => {
    const t = performance.now();
    const c = process.cpuUsage();
    await writePdf(bundle, { outDir, baseName: 'bench' });
    const used = process.cpuUsage(c);
    cpu.push((used.user + used.system) / 1000);
    return performance.now() - t;
  };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

  const coldBaseline = await baseline();
  const coldReport = await report();
  const warmReport: number[] = [];
  const warmBaseline: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    warmBaseline.push(await baseline());
    warmReport.push(await report());
  }
  const file = join(outDir, 'bench.pdf');
  const kb = statSync(file).size / 1024;
  const pages = /\/Type \/Pages[\s\S]*?\/Count (\d+)/.exec(readFileSync(file, 'latin1'))?.[1];
  const budget = median(warmReport) < 1000 && coldReport < 1000;
  console.log(
    [
      `## ${new Date().toISOString().slice(0, 10)} — PDF report (\`npm run bench:pdf\`), ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
      '',
      `Data: demo ${AGENTS} agents × ${DAYS} days (${events.toLocaleString('en-US')} events, loaded in ${loadS.toFixed(1)} s); template HR月度考核; bundle built in ${bundleMs.toFixed(0)} ms (not part of the PDF time).`,
      '',
      `| what | cold ms (first in process) | warm ms (median of ${RUNS}) | warm CPU ms (median) | size |`,
      '| --- | --- | --- | --- | --- |',
      `| baseline: pdfkit, one line of Chinese, same embedded font | ${coldBaseline.toFixed(0)} | ${median(warmBaseline).toFixed(0)} | | |`,
      `| writePdf: ${bundle.current.rows.length}-row summary, 3 charts, anomalies, 口径 | ${coldReport.toFixed(0)} (CPU ${cpu[0]!.toFixed(0)}) | ${median(warmReport).toFixed(0)} | ${median(cpu.slice(1)).toFixed(0)} | ${kb.toFixed(0)} KB, ${pages} pages |`,
      '',
      `Load average while measuring: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' / ')} (1/5/15 min) on ${cpus().length} cores.`,
      '',
      `Budget (< 1 s with three charts): ${budget ? 'met' : '**missed**'}.`,
    ].join('\n'),
  );
} finally {
  if (!process.env.BENCH_PDF_KEEP) rmSync(dir, { recursive: true, force: true });
}
