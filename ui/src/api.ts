// The REST API client (docs/api.md). Errors surface as ApiError carrying the server's
// {"error":{code,message}} so pages can say what was wrong.
import { csrfHeaders } from './lib/auth';
import type { Distribution, Overview, Timeseries, Top } from './lib/dashboard';
import type { LightTraceDetail, SessionDetail, SessionPage, Span, TraceDetail, TracePage } from './lib/types';

export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string) {
    super(message);
  }
}

async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { signal, headers: { Accept: 'application/json' } });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'unreachable', `cannot reach the Sightline server (${(e as Error).message})`);
  }
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    throw new ApiError(res.status, 'bad_response', `the server answered ${res.status} with non-JSON`);
  }
  if (!res.ok) {
    const err = (body as { error?: { code?: string; message?: string } })?.error;
    throw new ApiError(res.status, err?.code ?? 'http_' + res.status, err?.message ?? `HTTP ${res.status}`);
  }
  return body as T;
}

export const api = {
  traces: (q: URLSearchParams, signal?: AbortSignal) => getJson<TracePage>(`/api/v1/traces?${q}`, signal),
  trace: (id: string, signal?: AbortSignal) => getJson<TraceDetail>(`/api/v1/traces/${encodeURIComponent(id)}`, signal),
  // The trace without payloads: what the trace page's tree and waterfall need.
  traceLight: (id: string, signal?: AbortSignal) =>
    getJson<LightTraceDetail>(`/api/v1/traces/${encodeURIComponent(id)}?view=light`, signal),
  span: (traceId: string, spanId: string, signal?: AbortSignal) =>
    getJson<Span>(`/api/v1/traces/${encodeURIComponent(traceId)}/spans/${encodeURIComponent(spanId)}`, signal),
  sessions: (q: URLSearchParams, signal?: AbortSignal) => getJson<SessionPage>(`/api/v1/sessions?${q}`, signal),
  session: (id: string, signal?: AbortSignal) =>
    getJson<SessionDetail>(`/api/v1/sessions/${encodeURIComponent(id)}`, signal),
  // The metrics API (docs/api.md, "Metrics API").
  metricsOverview: (q: URLSearchParams, signal?: AbortSignal) => getJson<Overview>(`/api/v1/metrics/overview?${q}`, signal),
  metricsTimeseries: (q: URLSearchParams, signal?: AbortSignal) =>
    getJson<Timeseries>(`/api/v1/metrics/timeseries?${q}`, signal),
  metricsDistribution: (q: URLSearchParams, signal?: AbortSignal) =>
    getJson<Distribution>(`/api/v1/metrics/distribution?${q}`, signal),
  metricsTop: (q: URLSearchParams, signal?: AbortSignal) => getJson<Top>(`/api/v1/metrics/top?${q}`, signal),
  async loadDemo(): Promise<{ accepted_spans: number; traces: { trace_id: string; session_id: string }[] }> {
    const res = await fetch('/api/v1/demo', { method: 'POST', headers: csrfHeaders(document.cookie) });
    const body = await res.json().catch(() => null);
    if (!res.ok) {
      throw new ApiError(res.status, body?.error?.code ?? 'http_' + res.status, body?.error?.message ?? `HTTP ${res.status}`);
    }
    return body;
  },
};

// True when GET answers 200; false on 404/400; other failures propagate.
export async function exists(fn: () => Promise<unknown>): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 400)) return false;
    throw e;
  }
}
