import { useEffect, useState, type FormEvent } from 'react';
import { Link, useLocation, useNavigate, useParams } from 'react-router-dom';
import { createListing, getListing, updateListing } from '../api/endpoints';
import { ApiError } from '../api/problem';
import type { Listing, ListingInput, ListingStatus } from '../api/types';
import { FormError, Loading, Notice, Price, SelectField, StatusBadge, STATUS_LABELS, TextArea, TextField, TYPE_LABELS } from '../components/ui';
import { changedFields, emptyForm, formFromListing, inputFromForm, TRANSITIONS, type ListingForm } from '../lib/listingForm';
import { formatMoney } from '../lib/money';
import { messageOf, useProblem } from '../lib/useProblem';

const FIELDS = [
  'title', 'description', 'property_type', 'listing_type', 'status', 'price', 'bedrooms', 'bathrooms', 'area_sqft',
  'address.line', 'address.locality', 'address.city', 'address.state', 'address.postal_code', 'address.country',
  'location.lat', 'location.lng', 'facing', 'amenities', 'address', 'location',
] as const;

const LABEL: Record<string, string> = {
  title: 'Title', description: 'Description', property_type: 'Type', listing_type: 'Listing', price: 'Price',
  bedrooms: 'Bedrooms', bathrooms: 'Bathrooms', area_sqft: 'Area (sq ft)', address: 'Address', location: 'Location',
  facing: 'Facing', amenities: 'Amenities', status: 'Status',
};

/** A field's value as a person reads it, for the conflict table. */
function show(k: string, v: unknown): string {
  if (v === undefined || v === null || v === '') return '—';
  if (k === 'price' && typeof v === 'object') return formatMoney(v as { amount: number; currency: string });
  if (k === 'address' && typeof v === 'object') return Object.entries(v as Record<string, string>).filter(([key, x]) => x && key !== 'country').map(([, x]) => x).join(', ');
  if (k === 'location' && typeof v === 'object') {
    const l = v as { lat: number; lng: number };
    return `${l.lat}, ${l.lng}`;
  }
  if (k === 'property_type') return TYPE_LABELS[String(v)] ?? String(v);
  if (k === 'status') return STATUS_LABELS[String(v)] ?? String(v);
  if (Array.isArray(v)) return v.join(', ') || '—';
  return String(v);
}

interface Conflict {
  latest: Listing;
  etag: string;
  mine: ListingInput;
}

/**
 * One editor per listing: a new key for each id (and for "new") so that nothing of one listing
 * (its form, a conflict, a notice) stays when the route moves to another, e.g. from
 * /desk/new to the created listing's /desk/:id/edit, which then shows "Listing created.".
 */
export default function ListingEditorPage() {
  const { id } = useParams();
  return <ListingEditor key={id ?? 'new'} />;
}

function ListingEditor() {
  const { id } = useParams();
  const creating = !id;
  const navigate = useNavigate();
  const problem = useProblem(FIELDS);
  const [base, setBase] = useState<Listing | null>(null);
  const [etag, setEtag] = useState<string | null>(null);
  const [form, setForm] = useState<ListingForm>(emptyForm);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const location = useLocation();
  const [notice, setNotice] = useState<string | null>(
    (location.state as { created?: boolean } | null)?.created ? 'Listing created.' : null,
  );
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [statusError, setStatusError] = useState<string | null>(null);

  const adopt = (l: Listing, tag: string | null) => {
    setBase(l);
    setEtag(tag ?? `"${l.version}"`);
    setForm(formFromListing(l));
  };

  useEffect(() => {
    if (!id) return;
    getListing(id)
      .then((r) => adopt(r.data, r.etag))
      .catch(setLoadError);
  }, [id]);

  const set = (k: keyof ListingForm) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });

  /** PATCH `patch` against version `tag`; on 412 fetch the current listing and show both. */
  const patch = async (patchBody: ListingInput, tag: string, what: string) => {
    if (!id) return;
    try {
      const r = await updateListing(id, tag, patchBody);
      adopt(r.data, r.etag);
      setConflict(null);
      setNotice(what);
    } catch (err) {
      if (err instanceof ApiError && err.status === 412) {
        const latest = await getListing(id);
        setConflict({ latest: latest.data, etag: latest.etag ?? `"${latest.data.version}"`, mine: patchBody });
        return;
      }
      throw err;
    }
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    problem.clear();
    setNotice(null);
    const { input, errors } = inputFromForm(form, creating);
    if (Object.keys(errors).length > 0) {
      problem.show(new ApiError({
        type: 'https://restinu.dev/problems/validation-failed', title: 'Validation failed', status: 422,
        errors: Object.entries(errors).map(([field, reason]) => ({ field, reason })),
      }));
      return;
    }
    setBusy(true);
    try {
      if (creating) {
        const r = await createListing(input);
        navigate(`/desk/${r.data.id}/edit`, { replace: true, state: { created: true } });
        return;
      }
      if (!base || !etag) return;
      const changes = changedFields(input, base);
      if (Object.keys(changes).length === 0) {
        setNotice('Nothing to save: no field changed.');
        return;
      }
      await patch(changes, etag, 'Saved.');
    } catch (err) {
      problem.show(err);
    } finally {
      setBusy(false);
    }
  };

  const redo = async () => {
    if (!conflict) return;
    problem.clear();
    setBusy(true);
    try {
      await patch(conflict.mine, conflict.etag, 'Your changes were applied on top of the other change.');
    } catch (err) {
      problem.show(err);
    } finally {
      setBusy(false);
    }
  };

  const discard = () => {
    if (!conflict) return;
    adopt(conflict.latest, conflict.etag);
    setConflict(null);
    setNotice('Showing the latest version; your changes were discarded.');
  };

  const move = async (to: ListingStatus) => {
    if (!base || !etag) return;
    setStatusError(null);
    setNotice(null);
    setBusy(true);
    try {
      await patch({ status: to }, etag, `Status changed to ${STATUS_LABELS[to] ?? to}.`);
    } catch (err) {
      setStatusError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  if (loadError) {
    return (
      <section className="page narrow">
        <h1>Cannot edit this listing</h1>
        <FormError message={messageOf(loadError)} />
        <p><Link to="/desk">Back to your listings</Link></p>
      </section>
    );
  }
  if (!creating && !base) return <Loading label="Loading listing…" />;

  const theirs = conflict && base ? changedFields(formFromListingInput(conflict.latest), base) : {};
  const conflictKeys = conflict ? [...new Set([...Object.keys(conflict.mine), ...Object.keys(theirs)])] : [];

  return (
    <section className="page" aria-labelledby="editor-h">
      <p className="crumbs"><Link to="/desk">← Your listings</Link>{base && <> · <Link to={`/properties/${base.id}`}>View public page</Link></>}</p>
      <h1 id="editor-h">{creating ? 'New listing' : `Edit: ${base?.title}`}</h1>
      {base && (
        <p>
          <StatusBadge status={base.status} /> <Price money={base.price} /> · version {base.version}
        </p>
      )}

      {conflict && (
        <section className="conflict" aria-labelledby="conflict-h" role="alert">
          <h2 id="conflict-h">Someone else changed this listing while you were editing</h2>
          <p>Nothing of yours was saved. Compare, then apply your changes on top of theirs or keep theirs.</p>
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">Your changes and the other change</caption>
              <thead>
                <tr><th scope="col">Field</th><th scope="col">When you started</th><th scope="col">Now (their change)</th><th scope="col">Yours</th></tr>
              </thead>
              <tbody>
                {conflictKeys.map((k) => {
                  const key = k as keyof ListingInput;
                  const both = k in conflict.mine && k in theirs;
                  return (
                    <tr key={k} className={both ? 'clash' : undefined}>
                      <th scope="row">{LABEL[k] ?? k}{both && <span className="clash-note"> (both changed)</span>}</th>
                      <td>{show(k, base?.[key])}</td>
                      <td>{show(k, conflict.latest[key])}</td>
                      <td>{k in conflict.mine ? show(k, conflict.mine[key]) : '(unchanged)'}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <div className="actions">
            <button type="button" className="primary" onClick={() => void redo()} disabled={busy}>Apply my changes on the latest version</button>
            <button type="button" onClick={discard} disabled={busy}>Keep theirs, discard mine</button>
          </div>
        </section>
      )}

      {notice && <Notice tone="success">{notice}</Notice>}

      {base && (
        <section className="panel" aria-labelledby="status-h">
          <h2 id="status-h">Status</h2>
          <p>Now: <StatusBadge status={base.status} /></p>
          <div className="actions">
            {TRANSITIONS[base.status].map((to) => (
              <button key={to} type="button" onClick={() => void move(to)} disabled={busy || conflict !== null}>
                {to === 'active' && base.status === 'draft' ? 'Publish' : `Mark ${STATUS_LABELS[to]?.toLowerCase() ?? to}`}
              </button>
            ))}
            {TRANSITIONS[base.status].length === 0 && <p className="muted">Sold is final.</p>}
          </div>
          {statusError && <p className="field-error" role="alert">{statusError}</p>}
        </section>
      )}

      <form onSubmit={(e) => void submit(e)} noValidate className="listing-form">
        <fieldset>
          <legend>About</legend>
          <TextField label="Title" required minLength={3} maxLength={200} value={form.title} onChange={set('title')} error={problem.fields.title} />
          <TextArea label="Description" rows={5} maxLength={5000} value={form.description} onChange={set('description')} error={problem.fields.description} />
          <div className="grid-2">
            <SelectField label="Property type" value={form.property_type} onChange={set('property_type')} error={problem.fields.property_type}
              options={Object.entries(TYPE_LABELS).map(([value, label]) => ({ value, label }))} />
            <SelectField label="Listing" value={form.listing_type} onChange={set('listing_type')} error={problem.fields.listing_type}
              options={[{ value: 'sale', label: 'Whole property for sale' }, { value: 'fractional', label: 'Fractional shares' }]} />
            {creating && (
              <SelectField label="Start as" value={form.status} onChange={set('status')} error={problem.fields.status}
                options={[{ value: 'draft', label: 'Draft (only you see it)' }, { value: 'active', label: 'Active (public)' }]} />
            )}
            <TextField label="Price (₹)" inputMode="decimal" required value={form.price} onChange={set('price')}
              hint="In rupees: 85,00,000 or 85 lakh or 1.2 crore" error={problem.fields.price} />
          </div>
        </fieldset>
        <fieldset>
          <legend>Size</legend>
          <div className="grid-3">
            <TextField label="Bedrooms" inputMode="numeric" value={form.bedrooms} onChange={set('bedrooms')} error={problem.fields.bedrooms} />
            <TextField label="Bathrooms" inputMode="numeric" value={form.bathrooms} onChange={set('bathrooms')} error={problem.fields.bathrooms} />
            <TextField label="Area (sq ft)" inputMode="numeric" value={form.area_sqft} onChange={set('area_sqft')} error={problem.fields.area_sqft} />
          </div>
        </fieldset>
        <fieldset>
          <legend>Where</legend>
          <TextField label="Address" autoComplete="street-address" value={form.line} onChange={set('line')} error={problem.fields['address.line'] ?? problem.fields.address} />
          <div className="grid-2">
            <TextField label="Locality" value={form.locality} onChange={set('locality')} error={problem.fields['address.locality']} />
            <TextField label="City" required value={form.city} onChange={set('city')} error={problem.fields['address.city']} />
            <TextField label="State" value={form.state} onChange={set('state')} error={problem.fields['address.state']} />
            <TextField label="PIN code" inputMode="numeric" autoComplete="postal-code" value={form.postal_code} onChange={set('postal_code')} error={problem.fields['address.postal_code']} />
            <TextField label="Latitude" inputMode="decimal" value={form.lat} onChange={set('lat')} error={problem.fields['location.lat'] ?? problem.fields.location} hint="e.g. 19.0760" />
            <TextField label="Longitude" inputMode="decimal" value={form.lng} onChange={set('lng')} error={problem.fields['location.lng']} hint="e.g. 72.8777" />
          </div>
          {problem.fields['address.country'] && <p className="field-error">{problem.fields['address.country']}</p>}
        </fieldset>
        <fieldset>
          <legend>Details</legend>
          <div className="grid-2">
            <SelectField label="Facing" value={form.facing} onChange={set('facing')} error={problem.fields.facing}
              options={[{ value: '', label: 'Not given' }, ...['N', 'NE', 'E', 'SE', 'S', 'SW', 'W', 'NW'].map((d) => ({ value: d, label: d }))]} />
            <TextField label="Amenities" value={form.amenities} onChange={set('amenities')} hint="Comma-separated, e.g. parking, lift, gym" error={problem.fields.amenities} />
          </div>
        </fieldset>
        <FormError message={problem.summary} />
        <button type="submit" className="primary" disabled={busy || conflict !== null}>
          {busy ? 'Saving…' : creating ? 'Create listing' : 'Save changes'}
        </button>
      </form>
    </section>
  );
}

/** The listing as the form would send it, to compare with what the agent started from. */
function formFromListingInput(l: Listing): ListingInput {
  return inputFromForm(formFromListing(l), false).input;
}
