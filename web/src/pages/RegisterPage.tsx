import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { register } from '../api/endpoints';
import { FormError, TextField } from '../components/ui';
import { useAuth } from '../lib/auth';
import { useProblem } from '../lib/useProblem';

const FIELDS = ['email', 'password', 'name'] as const;

export default function RegisterPage() {
  const { signIn } = useAuth();
  const navigate = useNavigate();
  const problem = useProblem(FIELDS);
  const [busy, setBusy] = useState(false);
  const [form, setForm] = useState({ name: '', email: '', password: '' });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    problem.clear();
    setBusy(true);
    try {
      await register({ email: form.email.trim(), password: form.password, ...(form.name.trim() ? { name: form.name.trim() } : {}) });
    } catch (err) {
      problem.show(err);
      setBusy(false);
      return;
    }
    try {
      await signIn(form.email.trim(), form.password);
      navigate('/account', { replace: true });
    } catch {
      navigate('/login?registered=1', { replace: true });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="page narrow" aria-labelledby="reg-h">
      <h1 id="reg-h">Create an account</h1>
      <form onSubmit={(e) => void submit(e)} noValidate className="stack">
        <TextField label="Name (optional)" name="name" autoComplete="name" value={form.name}
          onChange={(e) => setForm({ ...form, name: e.target.value })} error={problem.fields.name} />
        <TextField label="E-mail" type="email" name="email" autoComplete="email" required value={form.email}
          onChange={(e) => setForm({ ...form, email: e.target.value })} error={problem.fields.email} />
        <TextField label="Password" type="password" name="password" autoComplete="new-password" required minLength={12} maxLength={128}
          hint="At least 12 characters. A few unrelated words make a strong one." value={form.password}
          onChange={(e) => setForm({ ...form, password: e.target.value })} error={problem.fields.password} />
        <FormError message={problem.summary} />
        <button type="submit" className="primary" disabled={busy}>{busy ? 'Creating…' : 'Create account'}</button>
      </form>
      <p>Have an account? <Link to="/login">Sign in</Link>.</p>
    </section>
  );
}
