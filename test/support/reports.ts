/** Two reports of the same scope read two ways (rollups and facts, SQLite and PostgreSQL): the same rows and numbers. */
import { expect } from 'vitest';
import type { Report } from '../../src/metrics/report.ts';

/** `digits`: sums of seconds taken in another order may differ in the last printed digit. */
export function expectSameReport(a: Report, b: Report, label: string, digits = 5): void {
  expect(
    a.rows.map((r) => r.key),
    label,
  ).toEqual(b.rows.map((r) => r.key));
  [...a.rows, a.total].forEach((row, i) => {
    const other = [...b.rows, b.total][i]!;
    for (const [id, v] of Object.entries(row.metrics)) {
      const where = `${label} ${JSON.stringify(row.key)} ${id}`;
      if (v === null) expect(other.metrics[id], where).toBeNull();
      else expect(other.metrics[id], where).toBeCloseTo(v, digits);
    }
  });
}
