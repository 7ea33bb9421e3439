import { describe, expect, it } from 'vitest';
import { ApiError, errorFromResponse, fieldLabel, fieldSentence, problemKind, problemMessages, type Problem } from './problem';

const P = 'https://restinu.dev/problems/';

describe('problem → messages', () => {
  it('puts each validation error beside its field, in words', () => {
    const p: Problem = {
      type: `${P}validation-failed`, title: 'Validation failed', status: 422,
      errors: [
        { field: 'price.amount', reason: 'must be a whole number from 0 to 1000000000000000' },
        { field: 'address.city', reason: 'is required' },
        { field: 'date_of_birth', reason: 'you must be 18 or older' },
      ],
    };
    const m = problemMessages(p);
    expect(m.fields['price.amount']).toBe('Price must be a whole number from 0 to 1000000000000000.');
    expect(m.fields['address.city']).toBe('City is required.');
    expect(m.fields.date_of_birth).toBe('You must be 18 or older.');
    expect(m.summary).toBe('Please correct the 3 fields marked below.');
  });

  it('joins several reasons for one field', () => {
    const m = problemMessages({
      type: `${P}validation-failed`, title: 'Validation failed', status: 422,
      errors: [{ field: 'password', reason: 'must be at least 12 characters' }, { field: 'password', reason: 'is a common password' }],
    });
    expect(m.fields.password).toBe('Password must be at least 12 characters. Password is a common password.');
    expect(m.summary).toBe('Please correct the field marked below.');
  });

  it('shows a nested field on its parent when the form has no finer field', () => {
    const m = problemMessages(
      { type: `${P}validation-failed`, title: 'Validation failed', status: 422, errors: [{ field: 'price.currency', reason: 'must be one of INR, USD' }] },
      { knownFields: ['title', 'price'] },
    );
    expect(m.fields.price).toBe('Currency must be one of INR, USD.');
  });

  it('never loses an error for a field the form does not show: it goes to the summary', () => {
    const m = problemMessages(
      { type: `${P}invalid-query`, title: 'Invalid query', status: 400, errors: [{ field: 'cursor', reason: 'is not a cursor this search gave out' }] },
      { knownFields: ['q'] },
    );
    expect(m.fields).toEqual({});
    expect(m.summary).toBe('Page is not a cursor this search gave out.');
  });

  it('maps field-shaped problems without errors to their field', () => {
    const m = problemMessages({ type: `${P}email-taken`, title: 'E-mail taken', status: 409, detail: 'an account with this e-mail exists' });
    expect(m.fields.email).toMatch(/already exists/);
    const t = problemMessages({ type: `${P}invalid-status-transition`, title: 'Invalid status transition', status: 409, detail: 'a sold listing cannot become active' });
    expect(t.fields.status).toBe('A sold listing cannot become active');
  });

  it('words action-level problems, with the wait from Retry-After', () => {
    const m = problemMessages(
      { type: `${P}too-many-login-attempts`, title: 'Too many login attempts', status: 429 },
      { retryAfter: 240 },
    );
    expect(m.fields).toEqual({});
    expect(m.summary).toBe('Too many failed sign-ins from here. Try again in 4 minutes.');
    expect(problemMessages({ type: `${P}invalid-credentials`, title: 'Invalid credentials', status: 401 }).summary)
      .toBe('The e-mail or the password is wrong.');
  });

  it('quotes the request id on server errors', () => {
    const m = problemMessages({ type: `${P}internal`, title: 'Internal error', status: 500, request_id: 'abc123' });
    expect(m.summary).toBe('Something went wrong on our side. (Reference: abc123)');
  });

  it('falls back to detail, then title, for unknown types', () => {
    expect(problemMessages({ type: `${P}new-thing`, title: 'New thing', status: 409, detail: 'the widget is busy' }).summary).toBe('The widget is busy.');
    expect(problemMessages({ type: 'about:blank', title: 'Teapot', status: 418 }).summary).toBe('Teapot.');
  });
});

describe('field words', () => {
  it('names known and unknown fields', () => {
    expect(fieldLabel('address.postal_code')).toBe('PIN code');
    expect(fieldLabel('elements.kitchen_zone')).toBe('Kitchen zone');
    expect(fieldSentence('q', 'must be 1 to 200 characters.')).toBe('Search words must be 1 to 200 characters.');
  });
  it('reads the kind from the type URI', () => {
    expect(problemKind({ type: `${P}precondition-failed` })).toBe('precondition-failed');
  });
});

describe('errorFromResponse', () => {
  it('reads problem+json with its ETag and Retry-After', async () => {
    const body = { type: `${P}precondition-failed`, title: 'Precondition failed', status: 412, detail: 'the listing is at version 4' };
    const res = new Response(JSON.stringify(body), {
      status: 412,
      headers: { 'Content-Type': 'application/problem+json', ETag: '"4"', 'Retry-After': '3' },
    });
    const e = await errorFromResponse(res);
    expect(e).toBeInstanceOf(ApiError);
    expect(e.kind).toBe('precondition-failed');
    expect(e.etag).toBe('"4"');
    expect(e.retryAfter).toBe(3);
  });
  it('makes a problem of a body that is not one', async () => {
    const e = await errorFromResponse(new Response('<html>Bad gateway</html>', { status: 502 }));
    expect(e.status).toBe(502);
    expect(e.problem.title).toBe('Request failed (502)');
  });
});
