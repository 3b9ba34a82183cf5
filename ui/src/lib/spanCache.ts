// The full spans the trace page has fetched for its detail pane, by span id. A span
// asked for twice while its request is in flight is fetched once; a failed fetch is
// forgotten so the next ask retries; the newest `max` spans are kept (each may carry
// large payloads), the oldest fetched dropped first.
export class SpanCache<S> {
  private readonly done = new Map<string, S>();
  private readonly pending = new Map<string, Promise<S>>();

  constructor(private readonly fetchSpan: (id: string) => Promise<S>, private readonly max = 200) {}

  // The span if it has arrived, without fetching.
  peek(id: string): S | undefined {
    return this.done.get(id);
  }

  load(id: string): Promise<S> {
    const have = this.done.get(id);
    if (have !== undefined) return Promise.resolve(have);
    const inFlight = this.pending.get(id);
    if (inFlight) return inFlight;
    const p = this.fetchSpan(id).then(
      (s) => {
        this.pending.delete(id);
        this.done.set(id, s);
        while (this.done.size > this.max) this.done.delete(this.done.keys().next().value as string);
        return s;
      },
      (e) => {
        this.pending.delete(id);
        throw e;
      },
    );
    this.pending.set(id, p);
    return p;
  }
}
