import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { getMyKyc, listSessions, revokeSession, submitKyc, updateMe, type KycInput } from '../api/endpoints';
import type { DocumentType, Kyc, Session } from '../api/types';
import { Empty, FormError, Loading, Notice, SelectField, TextArea, TextField } from '../components/ui';
import { useAuth } from '../lib/auth';
import { messageOf, useProblem } from '../lib/useProblem';

const dateTime = new Intl.DateTimeFormat('en-IN', { dateStyle: 'medium', timeStyle: 'short' });
const when = (iso?: string | null) => {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateTime.format(d);
};

const PROFILE_FIELDS = ['name', 'phone', 'language'] as const;

function Profile() {
  const { user, setUser } = useAuth();
  const problem = useProblem(PROFILE_FIELDS);
  const [form, setForm] = useState({ name: user?.name ?? '', phone: user?.phone ?? '', language: user?.language ?? '' });
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  if (!user) return null;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    problem.clear();
    setSaved(false);
    const body: { name?: string; phone?: string | null; language?: string } = {};
    if (form.name.trim() !== (user.name ?? '')) body.name = form.name.trim();
    if (form.phone.trim() !== (user.phone ?? '')) body.phone = form.phone.trim() === '' ? null : form.phone.trim();
    if (form.language.trim() !== (user.language ?? '') && form.language.trim() !== '') body.language = form.language.trim();
    if (Object.keys(body).length === 0) {
      setSaved(true);
      return;
    }
    setBusy(true);
    try {
      setUser(await updateMe(body));
      setSaved(true);
    } catch (err) {
      problem.show(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="profile-h" className="panel">
      <h2 id="profile-h">Profile</h2>
      <p>
        {user.email} · {user.role}
        {user.email_verified === false && <> · <strong>e-mail not verified yet</strong> (follow the link in the welcome e-mail)</>}
      </p>
      <form onSubmit={(e) => void submit(e)} noValidate className="stack">
        <TextField label="Name" name="name" autoComplete="name" value={form.name} maxLength={100}
          onChange={(e) => setForm({ ...form, name: e.target.value })} error={problem.fields.name} />
        <TextField label="Phone" name="phone" type="tel" autoComplete="tel" value={form.phone} hint="With the country code, e.g. +91 98765 43210. Empty removes it."
          onChange={(e) => setForm({ ...form, phone: e.target.value })} error={problem.fields.phone} />
        <TextField label="Language" name="language" value={form.language} hint="e.g. en, hi or en-IN"
          onChange={(e) => setForm({ ...form, language: e.target.value })} error={problem.fields.language} />
        <FormError message={problem.summary} />
        {saved && <Notice tone="success">Saved.</Notice>}
        <button type="submit" className="primary" disabled={busy}>{busy ? 'Saving…' : 'Save profile'}</button>
      </form>
    </section>
  );
}

function Sessions() {
  const [items, setItems] = useState<Session[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  const load = useCallback(() => {
    listSessions().then(setItems).catch((e: unknown) => setError(messageOf(e)));
  }, []);
  useEffect(load, [load]);

  const revoke = async (ids: string[]) => {
    setError(null);
    setBusy(ids.length === 1 ? ids[0]! : 'others');
    const failures: string[] = [];
    for (const id of ids) {
      try {
        await revokeSession(id);
      } catch (e) {
        // Already gone (404) is what we wanted.
        if (!(e instanceof Error && 'status' in e && (e as { status: number }).status === 404)) failures.push(messageOf(e));
      }
    }
    if (failures.length) setError(failures[0]!);
    setBusy(null);
    load();
  };

  const others = (items ?? []).filter((s) => !s.current);
  return (
    <section aria-labelledby="sessions-h" className="panel">
      <h2 id="sessions-h">Where you are signed in</h2>
      <FormError message={error} />
      {items === null && !error && <Loading label="Loading sessions…" />}
      {items && items.length === 0 && <Empty>No active sessions.</Empty>}
      {items && items.length > 0 && (
        <>
          <ul className="rows">
            {items.map((s) => (
              <li key={s.id} className="row">
                <div>
                  <strong>{s.device || 'Unknown device'}</strong>{s.current && <span className="badge badge-active"> This browser</span>}
                  <br />
                  <span className="muted">{s.ip ?? ''} · signed in {when(s.created_at)} · last used {when(s.last_used_at)}</span>
                </div>
                {!s.current && (
                  <button type="button" onClick={() => void revoke([s.id])} disabled={busy !== null} aria-label={`Sign out ${s.device || 'this device'}`}>
                    {busy === s.id ? 'Signing out…' : 'Sign out'}
                  </button>
                )}
              </li>
            ))}
          </ul>
          <button type="button" onClick={() => void revoke(others.map((s) => s.id))} disabled={others.length === 0 || busy !== null}>
            {busy === 'others' ? 'Signing out…' : 'Sign out everywhere else'}
          </button>
        </>
      )}
    </section>
  );
}

const KYC_FIELDS = ['document_type', 'document_number', 'mrz', 'full_name', 'date_of_birth'] as const;
const KYC_LABEL: Record<string, string> = {
  none: 'Not submitted',
  pending: 'Waiting for review',
  approved: 'Approved',
  rejected: 'Rejected',
};

function KycPanel() {
  const { user, setUser } = useAuth();
  const [kyc, setKyc] = useState<Kyc | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const problem = useProblem(KYC_FIELDS);
  const [busy, setBusy] = useState(false);
  const [form, setForm] = useState({ document_type: 'aadhaar' as DocumentType, document_number: '', mrz: '', full_name: user?.name ?? '', date_of_birth: '' });

  useEffect(() => {
    getMyKyc().then(setKyc).catch((e: unknown) => setLoadError(messageOf(e)));
  }, []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    problem.clear();
    setBusy(true);
    const body: KycInput = { document_type: form.document_type, full_name: form.full_name.trim(), date_of_birth: form.date_of_birth };
    if (form.document_type === 'passport') body.mrz = form.mrz.trim();
    else body.document_number = form.document_number.replace(/\s+/g, '').trim().toUpperCase();
    try {
      const k = await submitKyc(body);
      setKyc(k);
      if (user) setUser({ ...user, kyc_status: k.status });
    } catch (err) {
      problem.show(err);
    } finally {
      setBusy(false);
    }
  };

  const canSubmit = kyc && (kyc.status === 'none' || kyc.status === 'rejected');
  return (
    <section aria-labelledby="kyc-h" className="panel">
      <h2 id="kyc-h">Identity (KYC)</h2>
      <FormError message={loadError} />
      {!kyc && !loadError && <Loading label="Loading KYC status…" />}
      {kyc && (
        <p>
          Status: <strong>{KYC_LABEL[kyc.status] ?? kyc.status}</strong>
          {kyc.document_type && <> · {kyc.document_type.toUpperCase()} {kyc.document_number}</>}
          {kyc.submitted_at && <> · submitted {when(kyc.submitted_at)}</>}
          {kyc.decided_at && <> · decided {when(kyc.decided_at)}</>}
        </p>
      )}
      {kyc?.status === 'rejected' && kyc.rejection_reason && <Notice tone="warn">Reason: {kyc.rejection_reason}. You can submit again.</Notice>}
      {kyc?.status === 'pending' && <p className="muted">An admin will review it; you can keep browsing meanwhile.</p>}
      {canSubmit && (
        <form onSubmit={(e) => void submit(e)} noValidate className="stack">
          <SelectField label="Document" value={form.document_type} onChange={(e) => setForm({ ...form, document_type: e.target.value as DocumentType })}
            options={[{ value: 'aadhaar', label: 'Aadhaar' }, { value: 'pan', label: 'PAN card' }, { value: 'passport', label: 'Passport' }]}
            error={problem.fields.document_type} />
          {form.document_type === 'passport' ? (
            <TextArea label="Passport machine-readable lines" name="mrz" rows={2} spellCheck={false} className="mono"
              hint="The two 44-character lines at the bottom of the photo page." value={form.mrz}
              onChange={(e) => setForm({ ...form, mrz: e.target.value })} error={problem.fields.mrz} />
          ) : (
            <TextField label={form.document_type === 'pan' ? 'PAN' : 'Aadhaar number'} name="document_number" autoComplete="off" value={form.document_number}
              hint={form.document_type === 'pan' ? '10 characters, e.g. ABCPE1234F' : '12 digits'} inputMode={form.document_type === 'pan' ? 'text' : 'numeric'}
              onChange={(e) => setForm({ ...form, document_number: e.target.value })} error={problem.fields.document_number} />
          )}
          <TextField label="Full name as on the document" name="full_name" autoComplete="name" value={form.full_name}
            onChange={(e) => setForm({ ...form, full_name: e.target.value })} error={problem.fields.full_name} />
          <TextField label="Date of birth" name="date_of_birth" type="date" autoComplete="bday" value={form.date_of_birth}
            onChange={(e) => setForm({ ...form, date_of_birth: e.target.value })} error={problem.fields.date_of_birth} />
          <FormError message={problem.summary} />
          <button type="submit" className="primary" disabled={busy}>{busy ? 'Submitting…' : 'Submit for review'}</button>
        </form>
      )}
    </section>
  );
}

export default function AccountPage() {
  return (
    <div className="page">
      <h1>Your account</h1>
      <div className="account-grid">
        <Profile />
        <KycPanel />
        <Sessions />
      </div>
    </div>
  );
}
