// API keys: create one (its secret is shown once, with a copy button and a curl example), list, revoke.
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, call, get } from '../api';
import { ErrorPage } from '../components/layout';
import { Card, CopyCode, FormCard, Loader, ShownOnce, TextField, toast, useSubmit } from '../components/ui';
import { useData } from '../data';

interface ApiKey {
  id: string;
  name: string;
  dateCreated: number;
  dateLastUsed: number | null;
}

interface CreatedKey extends ApiKey {
  key: string;
}

/** A Unix time in seconds as the reader's local date and time. */
function formatDateTime(seconds: number): string {
  return new Date(seconds * 1000).toLocaleString();
}

function curlExample(secret: string): string {
  return `curl -H "x-umami-api-key: ${secret}" ${window.location.origin}/umami/api/websites`;
}

function NewKey({ created, onClose }: { created: CreatedKey | null; onClose: () => void }): JSX.Element {
  return (
    <ShownOnce open={created !== null} title="Your new API key" onClose={onClose}>
      {created && (
        <>
          <CopyCode label="api-key" code={created.key} />
          <p class="muted">Read Umami-style (base URL {window.location.origin}/umami/api) or Medama's /api with it:</p>
          <CopyCode label="api-key-curl" code={curlExample(created.key)} />
        </>
      )}
    </ShownOnce>
  );
}

function CreateKey({ onCreated }: { onCreated: (key: CreatedKey) => void }): JSX.Element {
  const [name, setName] = useState('');
  const { submit, error, busy } = useSubmit(
    async () => {
      onCreated(await call<CreatedKey>('POST', '/user/api-keys', { body: { name: name.trim() } }));
      setName('');
    },
    { validate: () => (name.trim() && name.trim().length <= 100 ? undefined : 'Give the key a name of 1 to 100 characters.') },
  );

  return (
    <FormCard title="Create an API key" description="Scripts, Umami clients and data connectors read your statistics with a key instead of logging in. A key cannot manage users, passwords or keys." submitLabel="Create key" busy={busy} onSubmit={submit}>
      <TextField label="Name" error={error} value={name} onInput={setName} placeholder="e.g. warehouse sync" autocomplete="off" />
    </FormCard>
  );
}

function KeyList({ keys, onRevoked }: { keys: ApiKey[]; onRevoked: () => void }): JSX.Element {
  const [failure, setFailure] = useState<ApiError | null>(null);
  const revoke = async (key: ApiKey): Promise<void> => {
    if (!window.confirm(`Revoke "${key.name}"? Anything using it stops working at once.`)) return;
    try {
      await call('DELETE', `/user/api-keys/${encodeURIComponent(key.id)}`);
      toast('Revoked', `The key "${key.name}" no longer works.`);
      onRevoked();
    } catch (err) {
      if (err instanceof ApiError && err.status !== 401) setFailure(err);
    }
  };
  if (failure) return <ErrorPage status={failure.status} message={failure.message} />;
  return (
    <Card title="API keys" description="Keys act as you. Revoking one takes effect immediately.">
      {keys.length === 0 ? (
        <p class="muted">No API keys yet.</p>
      ) : (
        <table class="data-table" aria-label="API keys">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.map((key) => (
              <tr key={key.id}>
                <td>{key.name}</td>
                <td>{formatDateTime(key.dateCreated)}</td>
                <td>{key.dateLastUsed === null ? 'Never' : formatDateTime(key.dateLastUsed)}</td>
                <td>
                  <button type="button" class="button button-danger" onClick={() => void revoke(key)} aria-label={`Revoke ${key.name}`}>
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}

export function ApiKeySettings(): JSX.Element {
  const keys = useData('api-keys', (signal) => get<ApiKey[]>('/user/api-keys', { signal }));
  const [created, setCreated] = useState<CreatedKey | null>(null);
  if (keys.error) return <ErrorPage status={keys.error.status} message={keys.error.message} />;
  if (!keys.data) return <Loader />;
  return (
    <div class="stack">
      <CreateKey
        onCreated={(key) => {
          setCreated(key);
          keys.reload();
        }}
      />
      <KeyList keys={keys.data} onRevoked={keys.reload} />
      <NewKey created={created} onClose={() => setCreated(null)} />
    </div>
  );
}
