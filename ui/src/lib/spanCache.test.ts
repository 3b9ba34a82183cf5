import { describe, expect, it } from 'vitest';
import { SpanCache } from './spanCache';

function fetcher() {
  const calls: string[] = [];
  const waiting = new Map<string, { resolve: (v: string) => void; reject: (e: Error) => void }>();
  const fetchSpan = (id: string) => {
    calls.push(id);
    return new Promise<string>((resolve, reject) => waiting.set(id, { resolve, reject }));
  };
  return { calls, waiting, fetchSpan };
}

describe('SpanCache', () => {
  it('fetches a span once, also when asked again while the request is in flight', async () => {
    const f = fetcher();
    const cache = new SpanCache(f.fetchSpan);
    const a = cache.load('s1');
    const b = cache.load('s1');
    expect(cache.peek('s1')).toBeUndefined();
    f.waiting.get('s1')!.resolve('span one');
    expect(await a).toBe('span one');
    expect(await b).toBe('span one');
    expect(cache.peek('s1')).toBe('span one');
    expect(await cache.load('s1')).toBe('span one');
    expect(f.calls).toEqual(['s1']);
  });

  it('forgets a failed fetch so the next ask retries', async () => {
    const f = fetcher();
    const cache = new SpanCache(f.fetchSpan);
    const first = cache.load('s1');
    f.waiting.get('s1')!.reject(new Error('HTTP 500'));
    await expect(first).rejects.toThrow('HTTP 500');
    expect(cache.peek('s1')).toBeUndefined();
    const second = cache.load('s1');
    f.waiting.get('s1')!.resolve('span one');
    expect(await second).toBe('span one');
    expect(f.calls).toEqual(['s1', 's1']);
  });

  it('keeps the newest spans up to its bound', async () => {
    const cache = new SpanCache((id: string) => Promise.resolve(`span ${id}`), 2);
    for (const id of ['a', 'b', 'c']) await cache.load(id);
    expect(cache.peek('a')).toBeUndefined();
    expect(cache.peek('b')).toBe('span b');
    expect(cache.peek('c')).toBe('span c');
  });
});
