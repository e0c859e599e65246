// Settings → Users (admins): invite a user with a generated password shown once, set its role and the
// websites a viewer may read, reset its password, delete it (docs/accounts.md).
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { type Account, ApiError, call, get, type Role, type Website } from '../api';
import { ErrorPage } from '../components/layout';
import { Card, CopyCode, Field, FormCard, Loader, Modal, ShownOnce, TextField, toast, useSubmit } from '../components/ui';
import { useData } from '../data';

const PASSWORD_ALPHABET = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** 20 characters from a 56-letter alphabet without look-alikes: about 116 random bits. */
export function generatePassword(length = 20): string {
  const bytes = new Uint32Array(length);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (n) => PASSWORD_ALPHABET[n % PASSWORD_ALPHABET.length]).join('');
}

function formatDate(seconds: number): string {
  return new Date(seconds * 1000).toLocaleDateString();
}

interface Shown {
  username: string;
  password: string;
}

function PasswordShown({ shown, onClose }: { shown: Shown | null; onClose: () => void }): JSX.Element {
  return (
    <ShownOnce open={shown !== null} title="Password for this user" onClose={onClose}>
      {shown && (
        <>
          <p>
            Give <strong>{shown.username}</strong> this password and the address of this dashboard. They can change it
            in Settings → Account.
          </p>
          <CopyCode label="new-user-password" code={shown.password} />
        </>
      )}
    </ShownOnce>
  );
}

function WebsiteChoice({ sites, chosen, onChange }: { sites: string[]; chosen: string[]; onChange: (next: string[]) => void }): JSX.Element {
  if (sites.length === 0) return <p class="muted">No websites yet.</p>;
  return (
    <fieldset class="checks">
      <legend>Websites this viewer may read</legend>
      {sites.map((site) => (
        <label class="check" key={site}>
          <input
            type="checkbox"
            name="website"
            value={site}
            checked={chosen.includes(site)}
            onChange={(e) => onChange(e.currentTarget.checked ? [...chosen, site] : chosen.filter((s) => s !== site))}
          />
          <span>{site}</span>
        </label>
      ))}
    </fieldset>
  );
}

function RoleChoice({ id, role, onChange }: { id: string; role: Role; onChange: (role: Role) => void }): JSX.Element {
  return (
    <select id={id} class="select" value={role} onChange={(e) => onChange(e.currentTarget.value === 'admin' ? 'admin' : 'viewer')}>
      <option value="viewer">Viewer: reads the websites chosen below</option>
      <option value="admin">Admin: everything</option>
    </select>
  );
}

function InviteUser({ sites, onInvited }: { sites: string[]; onInvited: (shown: Shown) => void }): JSX.Element {
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [chosen, setChosen] = useState<string[]>([]);
  const { submit, error, busy } = useSubmit(
    async () => {
      const name = username.trim();
      const password = generatePassword();
      const websites = role === 'viewer' ? chosen : [];
      await call<Account>('POST', '/users', { body: { username: name, password, role, websites } });
      onInvited({ username: name, password });
      setUsername('');
      setChosen([]);
    },
    {
      validate: () => (username.trim().length < 3 || username.trim().length > 48 ? 'Usernames have 3 to 48 characters.' : undefined),
      messages: { 409: 'That username is taken.' },
    },
  );

  return (
    <FormCard title="Invite a user" description="A viewer reads the statistics of the websites you choose and can change only its own password. The password is generated and shown once." submitLabel="Invite user" busy={busy} onSubmit={submit}>
      <TextField label="Username" error={error} name="username" value={username} onInput={setUsername} autocomplete="off" />
      <Field label="Role">{({ id }) => <RoleChoice id={id} role={role} onChange={setRole} />}</Field>
      {role === 'viewer' && <WebsiteChoice sites={sites} chosen={chosen} onChange={setChosen} />}
    </FormCard>
  );
}

function EditUser({ user, sites, onClose, onSaved }: { user: Account | null; sites: string[]; onClose: () => void; onSaved: () => void }): JSX.Element {
  const [role, setRole] = useState<Role>(user?.role ?? 'viewer');
  const [chosen, setChosen] = useState<string[]>(user?.websites ?? []);
  const [error, setError] = useState<string>();

  const save = async (event: Event): Promise<void> => {
    event.preventDefault();
    if (!user) return;
    try {
      await call('PATCH', `/users/${encodeURIComponent(user.id)}`, { body: { role, websites: role === 'viewer' ? chosen : [] } });
      toast('Saved', `${user.username} is now ${role === 'admin' ? 'an admin' : 'a viewer'}.`);
      onSaved();
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) setError('The last admin cannot become a viewer.');
      else if (err instanceof ApiError && err.status !== 401) setError(err.message);
    }
  };

  return (
    <Modal open={user !== null} title={`Edit ${user?.username ?? ''}`} onClose={onClose} wide>
      <form onSubmit={save} class="stack" noValidate>
        <Field label="Role" error={error}>
          {({ id }) => <RoleChoice id={id} role={role} onChange={setRole} />}
        </Field>
        {role === 'viewer' && <WebsiteChoice sites={sites} chosen={chosen} onChange={setChosen} />}
        <div class="form-actions">
          <button type="button" class="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="button button-primary">
            Save
          </button>
        </div>
      </form>
    </Modal>
  );
}

interface ListProps {
  users: Account[];
  onEdit: (user: Account) => void;
  onPassword: (shown: Shown) => void;
  onChanged: () => void;
}

function UserList({ users, onEdit, onPassword, onChanged }: ListProps): JSX.Element {
  const [failure, setFailure] = useState<ApiError | null>(null);
  const act = async (work: () => Promise<void>): Promise<void> => {
    try {
      await work();
      onChanged();
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) toast('Not possible', err.message, 'error');
      else if (err instanceof ApiError && err.status !== 401) setFailure(err);
    }
  };
  const reset = (user: Account): Promise<void> =>
    act(async () => {
      if (!window.confirm(`Give ${user.username} a new password? It is logged out everywhere.`)) return;
      const password = generatePassword();
      await call('PATCH', `/users/${encodeURIComponent(user.id)}`, { body: { password } });
      onPassword({ username: user.username, password });
    });
  const remove = (user: Account): Promise<void> =>
    act(async () => {
      if (!window.confirm(`Delete ${user.username}? It can no longer log in.`)) return;
      await call('DELETE', `/users/${encodeURIComponent(user.id)}`);
      toast('Deleted', `${user.username} was deleted.`);
    });

  if (failure) return <ErrorPage status={failure.status} message={failure.message} />;
  return (
    <Card title="Users" description="Admins manage everything. Viewers read only the websites listed next to them.">
      <div class="table-scroll">
        <table class="data-table" aria-label="Users">
          <thead>
            <tr>
              <th scope="col">Username</th>
              <th scope="col">Role</th>
              <th scope="col">Websites</th>
              <th scope="col">Created</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {users.map((user) => (
              <tr key={user.id} data-testid={`user-${user.username}`}>
                <td>{user.username}</td>
                <td>{user.role === 'admin' ? 'Admin' : 'Viewer'}</td>
                <td>{user.role === 'admin' ? 'All' : user.websites.join(', ') || 'None'}</td>
                <td>{formatDate(user.dateCreated)}</td>
                <td class="row-actions">
                  <button type="button" class="button button-small" onClick={() => onEdit(user)} aria-label={`Edit ${user.username}`}>
                    Edit
                  </button>
                  <button type="button" class="button button-small" onClick={() => void reset(user)} aria-label={`New password for ${user.username}`}>
                    New password
                  </button>
                  <button type="button" class="button button-small button-danger" onClick={() => void remove(user)} aria-label={`Delete ${user.username}`}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Card>
  );
}

export function UserSettings(): JSX.Element {
  const users = useData('users', (signal) => get<Account[]>('/users', { signal }));
  const sites = useData('websites', (signal) => get<Website[]>('/websites', { signal }));
  const [shown, setShown] = useState<Shown | null>(null);
  const [editing, setEditing] = useState<Account | null>(null);
  const failed = users.error ?? sites.error;
  if (failed) return <ErrorPage status={failed.status} message={failed.message} />;
  if (!users.data || !sites.data) return <Loader />;
  const names = sites.data.map((s) => s.hostname);
  return (
    <div class="stack">
      <InviteUser
        sites={names}
        onInvited={(s) => {
          setShown(s);
          users.reload();
        }}
      />
      <UserList users={users.data} onEdit={setEditing} onPassword={setShown} onChanged={users.reload} />
      <EditUser
        key={editing?.id ?? 'none'}
        user={editing}
        sites={names}
        onClose={() => setEditing(null)}
        onSaved={() => {
          setEditing(null);
          users.reload();
        }}
      />
      <PasswordShown shown={shown} onClose={() => setShown(null)} />
    </div>
  );
}
