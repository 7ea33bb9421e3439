// RFC 9457 problem+json (docs/problems.md): `type` is stable, `title` generic, `detail` about
// this occurrence, `errors` ([{field, reason}]) on validation problems. This module turns a
// problem into what a person reads: one message per form field, and one for the whole action.

export interface FieldError {
  field: string;
  reason: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  request_id?: string;
  errors?: FieldError[];
}

/** A failed API call: the problem (or one made up for a network failure) and the response. */
export class ApiError extends Error {
  readonly problem: Problem;
  readonly status: number;
  readonly retryAfter: number | null;
  readonly etag: string | null;
  constructor(problem: Problem, retryAfter: number | null = null, etag: string | null = null) {
    super(problem.detail ?? problem.title);
    this.name = 'ApiError';
    this.problem = problem;
    this.status = problem.status;
    this.retryAfter = retryAfter;
    this.etag = etag;
  }
  /** The part after https://restinu.dev/problems/, e.g. "validation-failed". */
  get kind(): string {
    return problemKind(this.problem);
  }
}

const PREFIX = 'https://restinu.dev/problems/';

export function problemKind(p: Pick<Problem, 'type'>): string {
  return p.type.startsWith(PREFIX) ? p.type.slice(PREFIX.length) : p.type;
}

/** Whether a parsed JSON body has the members every problem has. */
export function isProblem(v: unknown): v is Problem {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.type === 'string' && typeof o.title === 'string' && typeof o.status === 'number';
}

/** A problem for an answer that is not problem+json (a proxy's HTML page, a dropped connection). */
export function syntheticProblem(status: number, detail?: string): Problem {
  if (status === 0) {
    return { type: 'about:blank', title: 'No connection', status: 0, detail: detail ?? 'The server could not be reached. Check your connection and try again.' };
  }
  return { type: 'about:blank', title: `Request failed (${status})`, status, ...(detail ? { detail } : {}) };
}

// Problems whose meaning belongs to one field although they carry no `errors`.
const KIND_FIELD: Record<string, FieldError> = {
  'email-taken': { field: 'email', reason: 'An account with this e-mail already exists. Sign in instead.' },
  'kyc-document-in-use': { field: 'document_number', reason: 'This document is already used by another account.' },
  'invalid-status-transition': { field: 'status', reason: '' },
  'cannot-demote-self': { field: 'role', reason: 'You cannot take the admin role from yourself; another admin must.' },
  'last-admin': { field: 'role', reason: 'This would leave no admin.' },
};

// What to say for a problem type when its detail is not enough on its own.
const KIND_MESSAGE: Record<string, string> = {
  'invalid-credentials': 'The e-mail or the password is wrong.',
  'invalid-refresh-token': 'Your session has ended. Please sign in again.',
  unauthorized: 'Please sign in to do this.',
  forbidden: 'Your account is not allowed to do this.',
  'not-found': 'This was not found. It may have been removed, or it is not public.',
  'precondition-failed': 'Someone else changed this in the meantime.',
  'kyc-pending': 'Your identity document is already waiting for review.',
  'kyc-already-approved': 'Your identity is already verified.',
  'kyc-not-pending': 'This submission was already decided.',
  'kyc-required': 'Verify your identity (KYC) first.',
  'internal': 'Something went wrong on our side.',
  'bad-gateway': 'The service did not answer. Please try again.',
  'service-unavailable': 'The service is busy or down for a moment.',
  'gateway-timeout': 'The service took too long to answer. Please try again.',
  'rate-limited': 'Too many requests.',
  'too-many-login-attempts': 'Too many failed sign-ins from here.',
};

const WORDS: Record<string, string> = {
  email: 'E-mail',
  password: 'Password',
  name: 'Name',
  phone: 'Phone',
  language: 'Language',
  document_type: 'Document type',
  document_number: 'Document number',
  mrz: 'Passport lines (MRZ)',
  full_name: 'Full name',
  date_of_birth: 'Date of birth',
  title: 'Title',
  description: 'Description',
  property_type: 'Property type',
  listing_type: 'Listing type',
  status: 'Status',
  price: 'Price',
  'price.amount': 'Price',
  'price.currency': 'Currency',
  bedrooms: 'Bedrooms',
  bathrooms: 'Bathrooms',
  area_sqft: 'Area',
  address: 'Address',
  'address.line': 'Address',
  'address.locality': 'Locality',
  'address.city': 'City',
  'address.state': 'State',
  'address.postal_code': 'PIN code',
  'address.country': 'Country',
  location: 'Location',
  'location.lat': 'Latitude',
  'location.lng': 'Longitude',
  facing: 'Facing',
  amenities: 'Amenities',
  reason: 'Reason',
  role: 'Role',
  q: 'Search words',
  city: 'City',
  type: 'Property type',
  min_price: 'Minimum price',
  max_price: 'Maximum price',
  min_bedrooms: 'Bedrooms',
  near: 'Location',
  radius_km: 'Radius',
  bbox: 'Map area',
  sort: 'Sort',
  cursor: 'Page',
};

/** A field path as people say it: "address.postal_code" → "PIN code", "foo_bar" → "Foo bar". */
export function fieldLabel(field: string): string {
  const known = WORDS[field];
  if (known) return known;
  const last = field.split('.').pop() ?? field;
  const words = last.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * One sentence from a field and its reason. The API's reasons are predicates ("must be a
 * whole number from 0 to 50", "is required"), so they follow the field's name; a reason that
 * is already a sentence ("you must be 18 or older") stands on its own.
 */
export function fieldSentence(field: string, reason: string): string {
  const r = reason.trim().replace(/\.$/, '');
  if (/^(must|is|are|needs|should|cannot|can't|does|do|has|belongs)\b/.test(r)) {
    return `${fieldLabel(field)} ${r}.`;
  }
  return `${r.charAt(0).toUpperCase()}${r.slice(1)}.`;
}

export interface ProblemMessages {
  /** Field path (as the API names it, e.g. "price.amount") → the message to show beside it. */
  fields: Record<string, string>;
  /** What to show next to the action (the submit button) — always set. */
  summary: string;
}

function waitText(seconds: number): string {
  if (seconds < 90) return `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

/**
 * Maps a problem to messages. Every entry of `errors` goes to its field (several reasons for
 * one field are joined); problems that concern one field without `errors` (email-taken, …)
 * go there too. The summary says what happened in one line and, when fields are named, points
 * at them. `knownFields`, when given, lists the fields the form shows: errors for any other
 * field are added to the summary so they are never lost.
 */
export function problemMessages(
  p: Problem,
  opts: { knownFields?: readonly string[]; retryAfter?: number | null } = {},
): ProblemMessages {
  const kind = problemKind(p);
  const fields: Record<string, string> = {};
  const orphans: string[] = [];
  const shown = (field: string): string | undefined => {
    if (!opts.knownFields) return field;
    if (opts.knownFields.includes(field)) return field;
    // "price.amount" is shown by the "price" field when the form has no finer one.
    const parent = field.split('.')[0]!;
    return opts.knownFields.includes(parent) ? parent : undefined;
  };
  const add = (field: string, sentence: string) => {
    const target = shown(field);
    if (target === undefined) {
      orphans.push(sentence);
      return;
    }
    fields[target] = fields[target] ? `${fields[target]} ${sentence}` : sentence;
  };
  for (const e of p.errors ?? []) {
    if (e && typeof e.field === 'string' && typeof e.reason === 'string') {
      add(e.field, fieldSentence(e.field, e.reason));
    }
  }
  const byKind = KIND_FIELD[kind];
  if (byKind && !(p.errors && p.errors.length)) {
    add(byKind.field, byKind.reason || (p.detail ? `${p.detail.charAt(0).toUpperCase()}${p.detail.slice(1)}` : p.title));
  }

  let summary: string;
  const named = Object.keys(fields).length;
  if (named > 0 && orphans.length === 0) {
    summary = named === 1 ? 'Please correct the field marked below.' : `Please correct the ${named} fields marked below.`;
  } else if (orphans.length > 0) {
    summary = orphans.join(' ');
  } else {
    const base = KIND_MESSAGE[kind];
    const detail = p.detail && p.detail !== p.title ? p.detail : undefined;
    summary = base ?? (detail ? `${detail.charAt(0).toUpperCase()}${detail.slice(1)}` : p.title);
    if (base && detail && kind !== 'internal' && p.status < 500 && kind !== 'not-found') {
      summary = `${base} ${detail.charAt(0).toUpperCase()}${detail.slice(1)}`;
    }
    if (!/[.!?]$/.test(summary)) summary += '.';
  }
  if (opts.retryAfter && opts.retryAfter > 0) summary += ` Try again in ${waitText(opts.retryAfter)}.`;
  if (p.status >= 500 && p.request_id) summary += ` (Reference: ${p.request_id})`;
  return { fields, summary };
}

/** Turns a failed response into an ApiError, reading problem+json when the body is one. */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    const text = await res.text();
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  const retry = Number(res.headers.get('Retry-After'));
  const retryAfter = Number.isFinite(retry) && retry > 0 ? retry : null;
  const problem = isProblem(body) ? body : syntheticProblem(res.status);
  return new ApiError(problem, retryAfter, res.headers.get('ETag'));
}
