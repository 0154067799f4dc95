import { type FormEvent, useEffect, useId, useState } from 'react';
import { ApiError, api } from '../api/client.ts';
import { routes } from '../api/routes.ts';
import { saveToken } from '../api/token.ts';

/**
 * The API token is the only credential: `npm start` prints it (and keeps it in .weaver/api-token); on faasd it
 * is the `weaver-api-token` secret. It is checked against the gateway before it is stored.
 */
export function LoginPage() {
  const id = useId();
  const [token, setToken] = useState('');
  const [remember, setRemember] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    document.title = 'Log in · Weaver';
  }, []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const value = token.trim();
    if (!value) {
      setError('Enter the API token.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      // Trading the token for a session proves it is right; the answer itself is not needed.
      await api<unknown>(routes.session, { method: 'POST', body: { token: value }, token: value });
      saveToken(value, remember);
    } catch (err) {
      setError(
        err instanceof ApiError && (err.status === 401 || err.status === 403)
          ? 'That token was not accepted.'
          : err instanceof Error
            ? err.message
            : String(err),
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login" id="main">
      <form className="login-card" onSubmit={submit} noValidate>
        <h1>
          <span className="brand-mark" aria-hidden="true">
            ◆
          </span>{' '}
          Weaver
        </h1>
        <p className="muted">
          Paste the API token. <code>npm start</code> prints it and keeps it in <code>.weaver/api-token</code>
          .
        </p>
        <div className={`field ${error ? 'field-invalid' : ''}`}>
          <label htmlFor={`${id}-token`}>API token</label>
          <input
            id={`${id}-token`}
            type="password"
            autoComplete="current-password"
            value={token}
            onChange={(e) => setToken(e.target.value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? `${id}-err` : undefined}
          />
          {error ? (
            <div className="field-error" id={`${id}-err`} role="alert">
              {error}
            </div>
          ) : null}
        </div>
        <label className="check" htmlFor={`${id}-remember`}>
          <input
            id={`${id}-remember`}
            type="checkbox"
            checked={remember}
            onChange={(e) => setRemember(e.target.checked)}
          />
          Remember on this device
        </label>
        <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
          {busy ? 'Checking…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}
