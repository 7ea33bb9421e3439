import { useCallback, useState, type FormEvent } from 'react';
import { approveKyc, changeRole, listKyc, listUsers, rejectKyc } from '../api/endpoints';
import type { Kyc, Role, User } from '../api/types';
import { Empty, FormError, LoadMore, Loading, SelectField, TextArea, TextField } from '../components/ui';
import { useAuth } from '../lib/auth';
import { usePaged } from '../lib/usePaged';
import { messageOf } from '../lib/useProblem';

const ROLES: Role[] = ['investor', 'agent', 'admin'];
const date = new Intl.DateTimeFormat('en-IN', { dateStyle: 'medium' });
const when = (iso?: string | null) => (iso ? date.format(new Date(iso)) : '—');

function UserRow({ u, self, onChanged }: { u: User; self: boolean; onChanged: (u: User) => void }) {
  const [role, setRole] = useState<Role>(u.role);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [done, setDone] = useState(false);
  const save = async () => {
    setBusy(true);
    setError(undefined);
    setDone(false);
    try {
      const updated = await changeRole(u.id, role);
      onChanged(updated);
      setDone(true);
    } catch (e) {
      setError(messageOf(e));
      setRole(u.role);
    } finally {
      setBusy(false);
    }
  };
  return (
    <li className="row">
      <div>
        <strong>{u.name || u.email}</strong>{self && ' (you)'}
        <br />
        <span className="muted">{u.email} · joined {when(u.created_at)} · KYC {u.kyc_status ?? '—'}</span>
      </div>
      <div className="actions">
        <SelectField label={`Role of ${u.email}`} className="compact" value={role} onChange={(e) => setRole(e.target.value as Role)}
          options={ROLES.map((r) => ({ value: r, label: r }))} error={error} />
        <button type="button" onClick={() => void save()} disabled={busy || role === u.role}>{busy ? 'Saving…' : 'Change role'}</button>
        {done && <span role="status" className="ok">Saved</span>}
      </div>
    </li>
  );
}

function Users() {
  const { user } = useAuth();
  const [filter, setFilter] = useState<{ role: Role | ''; email: string }>({ role: '', email: '' });
  const [applied, setApplied] = useState(filter);
  const fetchPage = useCallback(
    (cursor: string | null) => listUsers({ role: applied.role, email: applied.email.trim(), cursor }),
    [applied],
  );
  const { items, setItems, more, busy, error, loadMore } = usePaged(fetchPage);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setApplied({ ...filter });
  };

  return (
    <section className="panel" aria-labelledby="users-h">
      <h2 id="users-h">Users and roles</h2>
      <form className="inline-form" onSubmit={submit} role="search" aria-label="Users">
        <TextField label="E-mail starts with" value={filter.email} onChange={(e) => setFilter({ ...filter, email: e.target.value })} />
        <SelectField label="Role" value={filter.role} onChange={(e) => setFilter({ ...filter, role: e.target.value as Role | '' })}
          options={[{ value: '', label: 'Any' }, ...ROLES.map((r) => ({ value: r, label: r }))]} />
        <button type="submit">Filter</button>
      </form>
      <FormError message={error} />
      {items === null && busy && <Loading label="Loading users…" />}
      {items && items.length === 0 && <Empty>No users match.</Empty>}
      {items && items.length > 0 && (
        <ul className="rows">
          {items.map((u) => (
            <UserRow key={u.id} u={u} self={u.id === user?.id} onChanged={(nu) => setItems((all) => all && all.map((x) => (x.id === nu.id ? nu : x)))} />
          ))}
        </ul>
      )}
      <LoadMore more={more} busy={busy} onClick={loadMore} />
    </section>
  );
}

function KycRow({ k, onDecided }: { k: Kyc; onDecided: (k: Kyc) => void }) {
  const [reason, setReason] = useState('');
  const [rejecting, setRejecting] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [reasonError, setReasonError] = useState<string | undefined>();
  const id = k.user_id ?? '';

  const approve = async () => {
    setBusy(true);
    setError(null);
    try {
      onDecided(await approveKyc(id));
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };
  const reject = async (e: FormEvent) => {
    e.preventDefault();
    if (!reason.trim()) {
      setReasonError('Say why, so the person can fix it (at most 500 characters).');
      return;
    }
    setBusy(true);
    setError(null);
    setReasonError(undefined);
    try {
      onDecided(await rejectKyc(id, reason.trim()));
    } catch (err) {
      const m = messageOf(err);
      if (m.toLowerCase().startsWith('reason')) setReasonError(m); else setError(m);
    } finally {
      setBusy(false);
    }
  };

  return (
    <li className="row kyc-row">
      <div>
        <strong>{k.full_name}</strong> · born {k.date_of_birth}
        <br />
        <span className="muted">{k.document_type?.toUpperCase()} {k.document_number} · submitted {when(k.submitted_at)} · user {id.slice(0, 8)}…</span>
        {k.rejection_reason && <><br /><span className="muted">Rejected: {k.rejection_reason}</span></>}
      </div>
      {k.status === 'pending' && (
        <div className="actions">
          <button type="button" className="primary" onClick={() => void approve()} disabled={busy}>Approve</button>
          {!rejecting && <button type="button" onClick={() => setRejecting(true)} disabled={busy}>Reject…</button>}
        </div>
      )}
      {rejecting && k.status === 'pending' && (
        <form onSubmit={(e) => void reject(e)} className="stack reject-form" noValidate>
          <TextArea label={`Reason for rejecting ${k.full_name ?? 'this submission'}`} rows={2} maxLength={500} value={reason}
            onChange={(e) => setReason(e.target.value)} error={reasonError} />
          <div className="actions">
            <button type="submit" disabled={busy}>Reject</button>
            <button type="button" className="link-button" onClick={() => setRejecting(false)}>Cancel</button>
          </div>
        </form>
      )}
      {error && <p className="field-error" role="alert">{error}</p>}
    </li>
  );
}

function KycQueue() {
  const [status, setStatus] = useState<'pending' | 'approved' | 'rejected'>('pending');
  const fetchPage = useCallback((cursor: string | null) => listKyc({ status, cursor }), [status]);
  const { items, setItems, more, busy, error, loadMore } = usePaged(fetchPage);

  return (
    <section className="panel" aria-labelledby="kyc-q-h">
      <h2 id="kyc-q-h">KYC review</h2>
      <SelectField label="Show" className="compact" value={status} onChange={(e) => setStatus(e.target.value as typeof status)}
        options={[{ value: 'pending', label: 'Waiting for review' }, { value: 'approved', label: 'Approved' }, { value: 'rejected', label: 'Rejected' }]} />
      <FormError message={error} />
      {items === null && busy && <Loading label="Loading submissions…" />}
      {items && items.length === 0 && <Empty>{status === 'pending' ? 'Nothing waiting for review.' : 'None.'}</Empty>}
      {items && items.length > 0 && (
        <ul className="rows">
          {items.map((k) => (
            <KycRow key={`${k.user_id}-${k.submitted_at}`} k={k} onDecided={(d) => setItems((all) => all && all.filter((x) => x.user_id !== d.user_id || status !== 'pending'))} />
          ))}
        </ul>
      )}
      <LoadMore more={more} busy={busy} onClick={loadMore} />
    </section>
  );
}

export default function AdminDesk() {
  return (
    <div className="page">
      <h1>Admin desk</h1>
      <div className="account-grid">
        <KycQueue />
        <Users />
      </div>
    </div>
  );
}
