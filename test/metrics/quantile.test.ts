/** Medians and percentiles: Excel's PERCENTILE.INC, by selection on unsorted values. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { quantile } from '../../src/metrics/catalog.ts';

/** The definition, by sorting. */
function reference(values: number[], q: number): number | null {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

describe('quantile', () => {
  it('interpolates between closest ranks', () => {
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(quantile([30, 60, 120], 0.9)).toBe(108);
    expect(quantile([7], 0.9)).toBe(7);
    expect(quantile([], 0.5)).toBeNull();
    expect(quantile(new Float64Array([5, 5, 5, 5]), 0.9)).toBe(5);
  });

  it('does not reorder its input', () => {
    const v = [3, 1, 2];
    quantile(v, 0.5);
    expect(v).toEqual([3, 1, 2]);
  });

  it('equals the sorted definition on any values (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 0, max: 5 }), fc.double({ min: 0, max: 1e6, noNaN: true })), {
          maxLength: 300,
        }),
        fc.constantFrom(0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1),
        (values, q) => {
          const want = reference(values, q);
          // Copying, and selecting in place in a list the caller owns: the same value.
          for (const got of [quantile(values, q), quantile(Float64Array.from(values), q, true)]) {
            if (want === null) expect(got).toBeNull();
            else expect(got).toBeCloseTo(want, 9);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
