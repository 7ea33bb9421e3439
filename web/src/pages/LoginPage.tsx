import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { FormError, TextField } from '../components/ui';
import { useAuth } from '../lib/auth';
import { useProblem } from '../lib/useProblem';

const FIELDS = ['email', 'password'] as const;

/** Only same-site paths, so a crafted link cannot send people elsewhere after signing in. */
export function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

export default function LoginPage() {
  const { signIn } = useAuth();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const problem = useProblem(FIELDS);
  const [busy, setBusy] = useState(false);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    problem.clear();
    setBusy(true);
    try {
      await signIn(email.trim(), password);
      navigate(safeNext(params.get('next')), { replace: true });
    } catch (err) {
      problem.show(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="page narrow" aria-labelledby="login-h">
      <h1 id="login-h">Sign in</h1>
      {params.get('registered') && <p className="notice notice-success" role="status">Your account is ready. Sign in to continue.</p>}
      <form onSubmit={(e) => void submit(e)} noValidate className="stack">
        <TextField label="E-mail" type="email" name="email" autoComplete="username" required value={email}
          onChange={(e) => setEmail(e.target.value)} error={problem.fields.email} />
        <TextField label="Password" type="password" name="password" autoComplete="current-password" required value={password}
          onChange={(e) => setPassword(e.target.value)} error={problem.fields.password} />
        <FormError message={problem.summary} />
        <button type="submit" className="primary" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
      <p>New here? <Link to="/register">Create an account</Link>.</p>
    </section>
  );
}
