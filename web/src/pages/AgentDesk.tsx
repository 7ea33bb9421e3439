import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { Empty, Price, StatusBadge, TextField } from '../components/ui';
import { known } from '../lib/deskStore';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

export default function AgentDesk() {
  const navigate = useNavigate();
  const [ref, setRef] = useState('');
  const [refError, setRefError] = useState<string | undefined>();
  const entries = known();

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
      <p className="muted">
        The list below shows the listings you created or opened in this browser tab. The API cannot list all of an
        agent's listings yet; open any other listing of yours by its link or ID.
      </p>
      <form onSubmit={open} className="inline-form" noValidate>
        <TextField label="Listing link or ID" value={ref} onChange={(e) => setRef(e.target.value)} error={refError} />
        <button type="submit">Open</button>
      </form>
      {entries.length === 0 ? (
        <Empty>
          <p>No listings here yet. <Link to="/desk/new">Create one</Link>.</p>
        </Empty>
      ) : (
        <ul className="rows">
          {entries.map((e) => (
            <li key={e.id} className="row">
              <div>
                <strong>{e.title}</strong> <StatusBadge status={e.status} />
                <br />
                <span className="muted"><Price money={e.price} />{e.city ? ` · ${e.city}` : ''}</span>
              </div>
              <div className="actions">
                <Link to={`/desk/${e.id}/edit`} aria-label={`Edit ${e.title}`}>Edit</Link>
                <Link to={`/properties/${e.id}`} aria-label={`View ${e.title}`}>View</Link>
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
