/**
 * `npm run bench:workbook`'s measurement of the command a user runs: `cspulse export` of the bench
 * template as xlsx, in this process, exactly as bin/cspulse.js runs it (the compiled dist/ when it
 * is current; plain node, no TypeScript loader). At exit it prints one JSON line: wall seconds
 * since the process started, CPU seconds, peak RSS, the workbook's rows and size.
 *
 *   node bench/workbook-cli.mjs DB TEMPLATE OUT_DIR
 */
import { rmSync, statSync } from 'node:fs';

const [db, template, outDir] = process.argv.slice(2);
rmSync(outDir, { recursive: true, force: true });
let printed = '';
const write = process.stdout.write.bind(process.stdout);
// The command prints its result as JSON (--json); keep it to report the file.
process.stdout.write = (chunk, ...rest) => {
  printed += String(chunk);
  const done = rest.at(-1);
  if (typeof done === 'function') done();
  return true;
};
process.on('exit', (code) => {
  if (code !== 0) return;
  const result = JSON.parse(printed.trim().split('\n').pop());
  const cpu = process.cpuUsage();
  write(
    `${JSON.stringify({
      rows: result.detailRows,
      seconds: performance.now() / 1000,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      fileMb: statSync(result.files[0]).size / 1e6,
      code,
    })}\n`,
  );
});
process.argv = [
  process.argv[0],
  'cspulse',
  'export',
  '--db',
  db,
  '--template',
  template,
  '--period',
  '2025-11',
];
process.argv.push('--format', 'xlsx', '--out', outDir, '--as', 'all', '--json');
await import('../bin/cspulse.js');
