import { useCallback, useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { listMyListings } from '../api/endpoints';
import { Empty, FormError, LoadMore, Loading, Price, SelectField, StatusBadge, STATUS_LABELS, TextField } from '../components/ui';
import { usePaged } from '../lib/usePaged';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

export default function AgentDesk() {
  const navigate = useNavigate();
  const [ref, setRef] = useState('');
  const [refError, setRefError] = useState<string | undefined>();
  const [status, setStatus] = useState('');
  const fetchPage = useCallback((cursor: string | null) => listMyListings({ status, cursor }), [status]);
  const { items, more, busy, error, loadMore } = usePaged(fetchPage);

  const open = (e: FormEvent) => {
    e.preventDefault();
    const m = UUID.exec(ref);
    if (!m) {
      setRefError('Paste a listing link or its ID (a UUID such as 0190c5e2-…).');
      return;
    }
    setRefError(undefined);
    navigate(`/desk/${m[0].toLowerCase()}/edit`);
  };

  return (
    <section className="page" aria-labelledby="desk-h">
      <h1 id="desk-h">Your listings</h1>
      <p><Link className="button primary" to="/desk/new">New listing</Link></p>
      <SelectField label="Show" className="compact" value={status} onChange={(e) => setStatus(e.target.value)}
        options={[{ value: '', label: 'Every status' }, ...Object.entries(STATUS_LABELS).map(([value, label]) => ({ value, label }))]} />
      <FormError message={error} />
      {items === null && busy && <Loading label="Loading your listings…" />}
      {items && items.length === 0 && (
        <Empty>
          {status ? <p>None of your listings is {STATUS_LABELS[status]?.toLowerCase()}.</p>
            : <p>No listings yet. <Link to="/desk/new">Create one</Link>.</p>}
        </Empty>
      )}
      {items && items.length > 0 && (
        <ul className="rows" aria-label="Your listings">
          {items.map((l) => (
            <li key={l.id} className="row">
              <div>
                <strong>{l.title}</strong> <StatusBadge status={l.status} />
                <br />
                <span className="muted"><Price money={l.price} />{l.address?.city ? ` · ${l.address.city}` : ''}</span>
              </div>
              <div className="actions">
                <Link to={`/desk/${l.id}/edit`} aria-label={`Edit ${l.title}`}>Edit</Link>
                <Link to={`/properties/${l.id}`} aria-label={`View ${l.title}`}>View</Link>
              </div>
            </li>
          ))}
        </ul>
      )}
      <LoadMore more={more} busy={busy} onClick={loadMore} />
      <form onSubmit={open} className="inline-form" noValidate>
        <TextField label="Open a listing by link or ID" value={ref} onChange={(e) => setRef(e.target.value)} error={refError} />
        <button type="submit">Open</button>
      </form>
    </section>
  );
}
