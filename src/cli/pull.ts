/** `cspulse sources pull <sourceId> [--once]`: read a pull source (微信客服 sync_msg) into the store. */
import type { Command } from 'commander';
import { refreshFacts } from '../ingest/pipeline.ts';
import { dbOption, withStore } from './export.ts';

export function registerPull(program: Command): void {
  const sources = program.commands.find((c) => c.name() === 'sources');
  if (!sources) throw new Error('cli: the sources command must be registered before sources pull');
  sources
    .command('pull <sourceId>')
    .description(
      "拉取消息 / pull a source's messages through its platform's API (a platform without one is named in the error, with those that have one); the cursor is kept in the database",
    )
    .option('--once', 'one pass up to what the platform has now, then exit')
    .option('--interval <seconds>', 'between passes, without --once', '60')
    .addOption(dbOption())
    .action(async (sourceId: string, o: { once?: boolean; interval: string; db?: string }) => {
      const interval = Number(o.interval);
      if (!Number.isFinite(interval) || interval < 1)
        throw new Error(`--interval: expected seconds ≥ 1, got "${o.interval}"`);
      // The connectors load with the command that uses them (see main.ts).
      const { pullOnce } = await import('../connectors/pull/runner.ts');
      await withStore(o.db, async (store) => {
        let stop = false;
        const onSignal = () => {
          stop = true;
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        try {
          for (;;) {
            try {
              const r = await pullOnce(store, sourceId, { log: (l) => console.error(l) });
              // Reports read facts: bring them up to date with what this pass stored.
              if (r.accepted) await refreshFacts(store);
              console.log(
                `${r.sourceId} [${r.stream}]: ${r.pages} 页 pages · 接收 accepted ${r.accepted} · 重复 duplicates ${r.duplicates} · 拒收 rejected ${r.rejected} · cursor ${r.cursor ?? '—'}`,
              );
            } catch (e) {
              // One pass failing (the platform down for an hour) must not end a long-running pull.
              if (o.once) throw e;
              console.error(`${new Date().toISOString()} ${sourceId}: ${(e as Error).message}`);
            }
            if (o.once || stop) return;
            const until = Date.now() + interval * 1000;
            while (!stop && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
            if (stop) return;
          }
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      });
    });
}
