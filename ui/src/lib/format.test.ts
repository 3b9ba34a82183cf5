import { describe, expect, it } from 'vitest';
import { formatBytes, formatCost, formatCount, formatDuration, formatRelative, formatTokens } from './format';

describe('formatting', () => {
  it.each([
    [0, '0 ns'], [999, '999 ns'], [1500, '1.50 µs'], [1_234_567, '1.23 ms'], [680e6, '680 ms'], [2.42e9, '2.42 s'],
    [12.5e9, '12.5 s'], [75e9, '1m 15s'], [3723e9, '1h 2m'], [3 * 86400e9 + 3600e9, '3d 1h'], [-1500, '-1.50 µs'],
    [null, '–'], [NaN, '–'],
  ])('duration %s -> %s', (ns, out) => expect(formatDuration(ns as number)).toBe(out));

  it.each([
    [0, '0'], [950, '950'], [1234, '1.2k'], [12345, '12k'], [1_500_000, '1.5M'], [25_000_000, '25M'], [null, '–'],
  ])('tokens %s -> %s', (n, out) => expect(formatTokens(n as number)).toBe(out));

  it.each([
    [0, '$0'], [0.00033, '$0.00033'], [0.0342, '$0.0342'], [0.5, '$0.5'], [12.3456, '$12.35'], [1234.5, '$1,234.50'],
    [0.00001234, '$1.2e-5'], [null, '–'],
  ])('cost %s -> %s', (usd, out) => expect(formatCost(usd as number)).toBe(out));

  it('counts and bytes', () => {
    expect(formatCount(12345)).toBe('12,345');
    expect(formatCount(null)).toBe('–');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(3 * 1024 * 1024)).toBe('3.0 MiB');
  });

  it('relative times', () => {
    const now = 1_700_000_000_000;
    expect(formatRelative((now - 5000) * 1e6, now)).toBe('5s ago');
    expect(formatRelative((now - 180_000) * 1e6, now)).toBe('3m ago');
    expect(formatRelative((now - 7_200_000) * 1e6, now)).toBe('2h ago');
    expect(formatRelative((now + 5000) * 1e6, now)).toBe('in 5s');
  });
});
