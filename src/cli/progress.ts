/** Progress bars for long work, on stderr and only for a person watching (a TTY, not CI). */
import cliProgress from 'cli-progress';

export function progressBar(label: string): ((done: number, total: number) => void) | undefined {
  if (!process.stderr.isTTY || process.env.CI) return undefined;
  let bar: cliProgress.SingleBar | undefined;
  return (done, total) => {
    if (!bar) {
      bar = new cliProgress.SingleBar(
        {
          format: `${label} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted}`,
          stream: process.stderr,
          clearOnComplete: true,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0);
    }
    bar.setTotal(total);
    bar.update(done);
    if (done >= total) bar.stop();
  };
}
