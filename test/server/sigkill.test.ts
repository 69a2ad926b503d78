/**
 * Nothing lost, nothing twice: a real `cspulse serve` process killed with SIGKILL in the middle of
 * a burst, restarted, and sent the whole burst again holds every event exactly once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { decodeBlock } from '../../src/ingest/blocks.ts';
import { addSource } from '../../src/ingest/sources.ts';
import { openStore } from '../../src/store/db.ts';

const BIN = join(import.meta.dirname, '../../bin/cspulse.js');
const dir = mkdtempSync(join(tmpdir(), 'cspulse-kill-'));
const db = join(dir, 'live.db');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function serve(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', String(port), '--db', db], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('webhooks:')) resolve(child);
    });
    child.stderr!.on('data', (d) => {
      out += d;
    });
    child.on('exit', (code) => reject(new Error(`serve exited (${code}): ${out}`)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

const REQUESTS = 400;
const PER_REQUEST = 10;

function bodies(): string[] {
  const out: string[] = [];
  for (let r = 0; r < REQUESTS; r++) {
    const events = [];
    for (let i = 0; i < PER_REQUEST; i++) {
      const n = r * PER_REQUEST + i;
      events.push({
        kind: 'message',
        id: `e${n}`,
        ts: 1762135200000 + n * 1000,
        channel: 'web',
        customer: { id: `c${n % 50}` },
        role: n % 2 ? 'agent' : 'customer',
        ...(n % 2 ? { account: 'wang' } : {}),
        text: `消息 ${n}`,
      });
    }
    out.push(JSON.stringify(events));
  }
  return out;
}

/** Post every body with some concurrency; returns how many were acknowledged with 200. */
async function burst(
  port: number,
  secret: string,
  sourceId: string,
  list: string[],
  onProgress?: (n: number) => void,
) {
  let next = 0;
  let acked = 0;
  const worker = async () => {
    while (next < list.length) {
      const body = list[next++]!;
      const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
      try {
        const r = await fetch(`http://127.0.0.1:${port}/ingest/${sourceId}`, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json', 'x-cspulse-signature': signature },
        });
        if (r.status === 200) acked++;
        onProgress?.(acked);
      } catch {
        // The server died under us: the platform would retry later.
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return acked;
}

it('holds every event exactly once after a SIGKILL mid-burst and a full resend', async () => {
  const setup = await openStore(db);
  const src = await addSource(setup, { platform: 'generic', name: 'burst', secret: 'kill-test' });
  await setup.close();
  const list = bodies();
  const port = 39000 + (process.pid % 1000);

  const first = await serve(port);
  let killed = false;
  const ackedBeforeKill = await burst(port, 'kill-test', src.id, list, (n) => {
    if (!killed && n >= REQUESTS / 4) {
      killed = true;
      first.kill('SIGKILL');
    }
  });
  await exited(first);
  expect(killed).toBe(true);
  expect(ackedBeforeKill).toBeLessThan(REQUESTS);

  // Every acknowledged event must have survived the kill.
  const mid = await openStore(db);
  const afterKill = await mid.db.selectFrom('event_ids').select('ext_id').execute();
  await mid.close();
  expect(afterKill.length).toBeGreaterThanOrEqual(ackedBeforeKill * PER_REQUEST);

  const second = await serve(port);
  const ackedResend = await burst(port, 'kill-test', src.id, list);
  second.kill('SIGTERM');
  await exited(second);
  expect(ackedResend).toBe(REQUESTS);

  const store = await openStore(db);
  try {
    const ids = await store.db.selectFrom('event_ids').select('ext_id').execute();
    expect(ids.length).toBe(REQUESTS * PER_REQUEST);
    const blocks = await store.db.selectFrom('event_blocks').select('events').execute();
    const stored = blocks.flatMap((b) => decodeBlock(b.events)).map((e) => e.id);
    expect(stored.length).toBe(REQUESTS * PER_REQUEST);
    expect(new Set(stored).size).toBe(REQUESTS * PER_REQUEST);
    // The graceful stop refreshed the facts: every customer's conversation is there.
    const customers = await store.db.selectFrom('conversations').select('customer_id').distinct().execute();
    expect(customers.length).toBe(50);
  } finally {
    await store.close();
  }
});
