// The login form, shown instead of every page while the server requires auth and the
// browser has no session (docs/auth.md, "UI login").
import { useState } from 'react';
import { loginError } from '../lib/auth';

export function LoginPage({ onDone }: { onDone: () => void }) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  return (
    <div className="page">
      <form
        className="login"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError('');
          try {
            const res = await fetch('/api/v1/auth/login', {
              method: 'POST',
              headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
              body: JSON.stringify({ user, password }),
            });
            if (res.ok) {
              setPassword('');
              onDone();
            } else {
              setError(loginError(res.status, res.headers.get('Retry-After')));
            }
          } catch (err) {
            setError(`Cannot reach the Sightline server (${(err as Error).message}).`);
          } finally {
            setBusy(false);
          }
        }}
      >
        <h2>Sign in to Sightline</h2>
        <label>
          User
          <input autoComplete="username" value={user} onChange={(e) => setUser(e.target.value)} required autoFocus />
        </label>
        <label>
          Password
          <input
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        <button type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
        {error && <p className="error-text" role="alert">{error}</p>}
        <p className="muted">Users are created with <code>sightline admin users create NAME --password-stdin</code>.</p>
      </form>
    </div>
  );
}
