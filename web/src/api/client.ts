// Every API call goes through `api()`: same-origin relative URLs, JSON in and out, the bearer
// token from the session module, one refresh-and-retry on a 401, and failures as ApiError
// (problem+json, docs/problems.md).
import { ApiError, errorFromResponse, syntheticProblem } from './problem';
import { getAccessToken, refresh } from './session';

export interface ApiOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Idempotency-Key for a POST/PATCH (reuse the same key when retrying the same action). */
  idempotencyKey?: string;
}

export interface ApiResult<T> {
  data: T;
  status: number;
  etag: string | null;
}

export function newIdempotencyKey(): string {
  if (typeof crypto !== 'undefined' && 'randomUUID' in crypto) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

async function send(path: string, opts: ApiOptions, token: string | null): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json, application/problem+json', ...opts.headers };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  if (opts.idempotencyKey) headers['Idempotency-Key'] = opts.idempotencyKey;
  try {
    return await fetch(path, {
      method: opts.method ?? 'GET',
      headers,
      body: opts.body === undefined ? null : JSON.stringify(opts.body),
      credentials: 'same-origin',
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(syntheticProblem(0));
  }
}

export async function api<T>(path: string, opts: ApiOptions = {}): Promise<ApiResult<T>> {
  if (!path.startsWith('/api/')) throw new Error(`not an API path: ${path}`);
  const token = getAccessToken();
  let res = await send(path, opts, token);
  if (res.status === 401 && token !== null && (await refresh())) {
    res = await send(path, opts, getAccessToken());
  }
  if (!res.ok) throw await errorFromResponse(res);
  const text = res.status === 204 ? '' : await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      throw new ApiError(syntheticProblem(res.status, 'The server sent an answer that is not JSON.'));
    }
  }
  return { data: data as T, status: res.status, etag: res.headers.get('ETag') };
}

/** Builds a path with its query: path('/api/v1/admin/users', {role: 'agent'}). Empty values are left out. */
export function withQuery(path: string, query: Record<string, string | number | undefined | null>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  }
  const qs = p.toString();
  return qs ? `${path}?${qs}` : path;
}
