// One function per operation of api/openapi.yaml that the web app uses.
import { api, newIdempotencyKey, withQuery, type ApiResult } from './client';
import type {
  AgentProfile, DocumentType, Kyc, Listing, ListingInput, Page, Role, SearchPage, Session, User,
} from './types';

const enc = encodeURIComponent;

// Search (GET /api/v1/properties); `query` comes from lib/searchState.apiQuery.
export const searchProperties = (query: string, signal?: AbortSignal) =>
  api<SearchPage>(`/api/v1/properties?${query}`, signal ? { signal } : {}).then((r) => r.data);

// Listings
export const getListing = (id: string) => api<Listing>(`/api/v1/properties/${enc(id)}`);
export const createListing = (input: ListingInput, key = newIdempotencyKey()) =>
  api<Listing>('/api/v1/properties', { method: 'POST', body: input, idempotencyKey: key });
/** PATCH with If-Match (the ETag read with the listing); 412 precondition-failed when it moved on. */
export const updateListing = (id: string, etag: string, patch: ListingInput, key = newIdempotencyKey()): Promise<ApiResult<Listing>> =>
  api<Listing>(`/api/v1/properties/${enc(id)}`, {
    method: 'PATCH', body: patch, headers: { 'If-Match': etag }, idempotencyKey: key,
  });

/** An agent's public profile; 404 (an ApiError) for anyone without one. */
export const getAgentProfile = (id: string) =>
  api<AgentProfile>(`/api/v1/users/${enc(id)}/profile`).then((r) => r.data);

/** The caller's own listings in every status (the agent's desk), newest first. */
export const listMyListings = (q: { status?: string; cursor?: string | null }) =>
  api<Page<Listing>>(withQuery('/api/v1/users/me/listings', { status: q.status, cursor: q.cursor, limit: 20 })).then((r) => r.data);

// Account
export const getMe = () => api<User>('/api/v1/users/me').then((r) => r.data);
export const register = (body: { email: string; password: string; name?: string }) =>
  api<User>('/api/v1/auth/register', { method: 'POST', body }).then((r) => r.data);
export const updateMe = (body: { name?: string; phone?: string | null; language?: string }) =>
  api<User>('/api/v1/users/me', { method: 'PATCH', body, idempotencyKey: newIdempotencyKey() }).then((r) => r.data);
export const listSessions = () =>
  api<{ items: Session[] }>('/api/v1/users/me/sessions').then((r) => r.data.items ?? []);
export const revokeSession = (id: string) =>
  api<void>(`/api/v1/users/me/sessions/${enc(id)}`, { method: 'DELETE' });
export const getMyKyc = () => api<Kyc>('/api/v1/users/me/kyc').then((r) => r.data);
export interface KycInput {
  document_type: DocumentType;
  document_number?: string;
  mrz?: string;
  full_name: string;
  date_of_birth: string;
}
export const submitKyc = (body: KycInput) =>
  api<Kyc>('/api/v1/users/me/kyc', { method: 'POST', body, idempotencyKey: newIdempotencyKey() }).then((r) => r.data);

// Admin
export const listUsers = (q: { role?: Role | ''; email?: string; cursor?: string | null; limit?: number }) =>
  api<Page<User>>(withQuery('/api/v1/admin/users', { role: q.role, email: q.email, cursor: q.cursor, limit: q.limit ?? 50 })).then((r) => r.data);
export const changeRole = (id: string, role: Role) =>
  api<User>(`/api/v1/admin/users/${enc(id)}`, { method: 'PATCH', body: { role }, idempotencyKey: newIdempotencyKey() }).then((r) => r.data);
export const listKyc = (q: { status?: 'pending' | 'approved' | 'rejected'; cursor?: string | null }) =>
  api<Page<Kyc>>(withQuery('/api/v1/admin/kyc', { status: q.status ?? 'pending', cursor: q.cursor, limit: 50 })).then((r) => r.data);
export const approveKyc = (userId: string) =>
  api<Kyc>(`/api/v1/admin/kyc/${enc(userId)}/approve`, { method: 'POST', idempotencyKey: newIdempotencyKey() }).then((r) => r.data);
export const rejectKyc = (userId: string, reason: string) =>
  api<Kyc>(`/api/v1/admin/kyc/${enc(userId)}/reject`, { method: 'POST', body: { reason }, idempotencyKey: newIdempotencyKey() }).then((r) => r.data);
