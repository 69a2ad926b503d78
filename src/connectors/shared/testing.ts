/** Helpers for the connector tests (not used by production code). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Reject } from '../../model/events.ts';
import type { ReadBatch } from '../types.ts';

export interface Collected {
  items: { line: number; raw: Record<string, unknown> }[];
  rejects: Reject[];
  batches: ReadBatch[];
}

export async function collect(gen: AsyncGenerator<ReadBatch>): Promise<Collected> {
  const out: Collected = { items: [], rejects: [], batches: [] };
  for await (const b of gen) {
    out.batches.push(b);
    for (const it of b.items) out.items.push(it as Collected['items'][number]);
    out.rejects.push(...b.rejects);
  }
  return out;
}

export function tempDir(prefix = 'cspulse-conn-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** test/fixtures/connectors in this repository. */
export const OWN_FIXTURES = fileURLToPath(new URL('../../../test/fixtures/connectors', import.meta.url));

/** ../shared/fixtures/twcs beside the repository, or null when absent (tests then skip). */
export function sharedTwcsDir(): string | null {
  const candidates = [
    fileURLToPath(new URL('../../../../shared/fixtures/twcs', import.meta.url)),
    resolve(process.cwd(), '../shared/fixtures/twcs'),
  ];
  return candidates.find((d) => existsSync(d)) ?? null;
}
