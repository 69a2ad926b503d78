import { describe, expect, it } from 'vitest';
import { wholeMonths } from '../../src/metrics/rollups.ts';

describe('the months a report period covers whole (monthly rollup)', () => {
  it.each([
    ['2025-11-01', '2025-11-30', { from: '2025-11', to: '2025-11' }],
    ['2025-11-02', '2025-12-31', { from: '2025-12', to: '2025-12' }],
    ['2025-10-15', '2026-01-10', { from: '2025-11', to: '2025-12' }],
    ['2024-02-01', '2024-02-29', { from: '2024-02', to: '2024-02' }],
    ['2025-02-01', '2025-02-28', { from: '2025-02', to: '2025-02' }],
    ['2025-12-15', '2026-01-31', { from: '2026-01', to: '2026-01' }],
    [undefined, '2025-11-29', { from: undefined, to: '2025-10' }],
    ['2025-11-26', undefined, { from: '2025-12', to: undefined }],
    [undefined, undefined, { from: undefined, to: undefined }],
  ])('%s … %s', (from, to, expected) => {
    expect(wholeMonths(from, to)).toEqual(expected);
  });

  it('none inside a month, or a leap day short', () => {
    expect(wholeMonths('2025-11-26', '2025-11-29')).toBeNull();
    expect(wholeMonths('2024-02-01', '2024-02-28')).toBeNull();
    expect(wholeMonths('2025-11-02', '2025-12-30')).toBeNull();
  });
});
