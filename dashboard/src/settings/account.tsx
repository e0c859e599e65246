// Account: change the username and the password.
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, call, get, type User } from '../api';
import { DEFAULT_PASSWORD, setUsesDefaultPassword, useDefaultPassword } from '../auth';
import { ErrorPage } from '../components/layout';
import { FormCard, Field, Loader, PasswordInput, TextField, toast } from '../components/ui';
import { useData } from '../data';
import { useRole } from '../role';

export function AccountSettings(): JSX.Element {
  const user = useData('user', (signal) => get<User>('/user', { signal }));
  if (user.error) return <ErrorPage status={user.error.status} message={user.error.message} />;
  if (!user.data) return <Loader />;
  return <AccountForm user={user.data} />;
}

/** Rendered only once the user is loaded, so the fields start filled (no overwrite while typing). */
function AccountForm({ user }: { user: User }): JSX.Element {
  const usesDefault = useDefaultPassword();
  // A viewer changes only its password; an admin renames it if needed (docs/accounts.md).
  const viewer = useRole() === 'viewer';
  const [username, setUsername] = useState(user.username);
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<{ username?: string; password?: string }>({});
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ApiError | null>(null);

  if (failure) return <ErrorPage status={failure.status} message={failure.message} />;

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    const name = username.trim();
    const found: typeof errors = {};
    if (name.length < 3 || name.length > 36) found.username = 'Use 3 to 36 characters.';
    if (password && (password.length < 5 || password.length > 128)) found.password = 'Use 5 to 128 characters.';
    else if (password === DEFAULT_PASSWORD) found.password = 'Choose a password other than the default one.';
    setErrors(found);
    if (found.username || found.password) return;
    setBusy(true);
    try {
      const body: Record<string, unknown> = { username: name, settings: { language: 'en' } };
      if (password) body.password = password;
      await call<User>('PATCH', '/user', { body });
      if (password) setUsesDefaultPassword(false);
      setPassword('');
      toast('Saved', 'Your account details are updated.');
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) setErrors({ username: 'That username is already taken.' });
      else if (err instanceof ApiError && err.status === 400) setErrors({ username: err.message });
      else if (err instanceof ApiError && err.status !== 401) setFailure(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <FormCard
      title="Account details"
      description="Change the name and password you log in with."
      submitLabel="Save"
      busy={busy}
      onSubmit={submit}
    >
      {usesDefault && (
        <div class="alert alert-warning" role="note">
          You are using the default password. Choose a new one below.
        </div>
      )}
      <TextField
        label="Username"
        hint={viewer ? 'Only an admin can change it.' : '3 to 36 characters.'}
        error={errors.username}
        name="username"
        value={username}
        onInput={setUsername}
        readOnly={viewer}
        autocomplete="username"
      />
      <Field label="New password" hint="Leave empty to keep the current password." error={errors.password}>
        {({ id, describedBy, invalid }) => (
          <PasswordInput
            id={id}
            value={password}
            onInput={setPassword}
            placeholder="New password"
            autocomplete="new-password"
            describedBy={describedBy}
            invalid={invalid}
          />
        )}
      </Field>
    </FormCard>
  );
}
