// Login, logout and the first-run prompt to replace the default password.
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, get, type User } from '../api';
import {
  clearLoggedIn,
  DEFAULT_PASSWORD,
  isLoggedIn,
  setLoggedIn,
  setUsesDefaultPassword,
  useDefaultPassword,
  useLoggedIn,
} from '../auth';
import { ErrorPage } from '../components/layout';
import { Field, Loader, Modal, PasswordInput, TextField, toast } from '../components/ui';
import { useTitle } from '../data';
import { Link, navigate, useLocation } from '../router';

/** Only same-site paths are followed after login (never another origin). */
function safeRedirect(target: string | null): string {
  if (!target || !target.startsWith('/') || target.startsWith('//')) return '/';
  return target;
}

export function LoginPage(): JSX.Element {
  useTitle('Login | Medama');
  const { search } = useLocation();
  const target = safeRedirect(search.get('redirect'));
  const [checking, setChecking] = useState(isLoggedIn());
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<{ username?: string; password?: string; form?: string }>({});
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ApiError | null>(null);

  // Already logged in (marker present): confirm with the server, then leave the login page.
  useEffect(() => {
    if (!checking) return;
    get<User>('/user', { allow401: true })
      .then(() => navigate(target, { replace: true }))
      .catch(() => {
        clearLoggedIn();
        setChecking(false);
      });
  }, []);

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    const name = username.trim();
    const pass = password.trim();
    const found: typeof errors = {};
    if (name.length < 3) found.username = 'Username should include at least 3 characters.';
    if (pass.length < 5) found.password = 'Password should include at least 5 characters.';
    setErrors(found);
    if (found.username || found.password) return;
    setBusy(true);
    try {
      await call('POST', '/auth/login', { body: { username: name, password: pass }, allow401: true });
      setLoggedIn();
      setUsesDefaultPassword(pass === DEFAULT_PASSWORD);
      navigate(target, { replace: true });
    } catch (err) {
      const error = err instanceof ApiError ? err : new ApiError(0, String(err));
      if (error.status === 401) setErrors({ form: 'Invalid username or password. Please try again.' });
      else if (error.status === 429) setErrors({ form: 'Too many attempts. Please wait a minute and try again.' });
      else setFailure(error);
    } finally {
      setBusy(false);
    }
  };

  if (failure) return <ErrorPage status={failure.status} message={failure.message} />;
  if (checking) return <Loader />;

  return (
    <div class="auth-page">
      <form class="card auth-card" onSubmit={submit} noValidate aria-labelledby="login-title">
        <h1 id="login-title">Log in</h1>
        <p class="muted">Welcome back. Log in to see your websites.</p>
        {errors.form && (
          <div class="alert alert-error" role="alert">
            {errors.form}
          </div>
        )}
        <TextField
          label="Username"
          error={errors.username}
          name="username"
          value={username}
          onInput={setUsername}
          placeholder="Your username"
          autocomplete="username"
          required
          autofocus
        />
        <Field label="Password" error={errors.password}>
          {({ id, describedBy, invalid }) => (
            <PasswordInput
              id={id}
              value={password}
              onInput={setPassword}
              placeholder="Your password"
              autocomplete="current-password"
              describedBy={describedBy}
              invalid={invalid}
              required
            />
          )}
        </Field>
        <button type="submit" class="button button-primary button-block" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
        <p class="field-hint auth-hint">
          First time here? The initial account is <code>admin</code> with the password{' '}
          <code>{DEFAULT_PASSWORD}</code>. You will be asked to change it.
        </p>
      </form>
    </div>
  );
}

export function LogoutPage(): JSX.Element {
  useTitle('Logout | Medama');
  const [done, setDone] = useState(false);
  useEffect(() => {
    if (!isLoggedIn()) {
      navigate('/login', { replace: true });
      return;
    }
    call('POST', '/auth/logout', { allow401: true })
      .catch(() => undefined)
      .finally(() => {
        clearLoggedIn();
        setDone(true);
      });
  }, []);
  if (!done) return <Loader label="Logging out…" />;
  return (
    <div class="auth-page">
      <div class="card auth-card">
        <h1>Logged out</h1>
        <p class="muted">You have been logged out.</p>
        <Link href="/login" class="button button-primary button-block">
          Log in again
        </Link>
      </div>
    </div>
  );
}

const DISMISSED = 'medama-password-prompt-dismissed';

/** First run: right after logging in with the default password, offer to replace it. */
export function DefaultPasswordPrompt(): JSX.Element | null {
  const loggedIn = useLoggedIn();
  const usesDefault = useDefaultPassword();
  const { path } = useLocation();
  const [dismissed, setDismissed] = useState(() => window.sessionStorage.getItem(DISMISSED) === '1');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [errors, setErrors] = useState<{ password?: string; confirm?: string; form?: string }>({});
  const [busy, setBusy] = useState(false);

  const open = loggedIn && usesDefault && !dismissed && path !== '/login' && path !== '/logout';
  const close = (): void => {
    window.sessionStorage.setItem(DISMISSED, '1');
    setDismissed(true);
  };

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    const found: typeof errors = {};
    if (password.length < 5 || password.length > 128) found.password = 'Use 5 to 128 characters.';
    else if (password === DEFAULT_PASSWORD) found.password = 'Choose a password other than the default one.';
    if (!found.password && confirm !== password) found.confirm = 'The two passwords do not match.';
    setErrors(found);
    if (found.password || found.confirm) return;
    setBusy(true);
    try {
      await call('PATCH', '/user', { body: { password } });
      setUsesDefaultPassword(false);
      toast('Password changed', 'Your new password is saved. Use it next time you log in.');
    } catch (err) {
      setErrors({ form: err instanceof Error ? err.message : String(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      open={open}
      title="Choose your own password"
      description="You logged in with the default password that every Medama install starts with. Replace it now so nobody else can read your analytics."
      onClose={close}
    >
      <form onSubmit={submit} noValidate>
        {errors.form && (
          <div class="alert alert-error" role="alert">
            {errors.form}
          </div>
        )}
        <Field label="New password" hint="5 to 128 characters." error={errors.password}>
          {({ id, describedBy, invalid }) => (
            <PasswordInput
              id={id}
              value={password}
              onInput={setPassword}
              autocomplete="new-password"
              describedBy={describedBy}
              invalid={invalid}
              required
            />
          )}
        </Field>
        <Field label="Repeat the new password" error={errors.confirm}>
          {({ id, describedBy, invalid }) => (
            <PasswordInput
              id={id}
              value={confirm}
              onInput={setConfirm}
              autocomplete="new-password"
              describedBy={describedBy}
              invalid={invalid}
              required
            />
          )}
        </Field>
        <div class="form-actions">
          <button type="button" class="button" onClick={close}>
            Not now
          </button>
          <button type="submit" class="button button-primary" disabled={busy}>
            Save password
          </button>
        </div>
      </form>
    </Modal>
  );
}
