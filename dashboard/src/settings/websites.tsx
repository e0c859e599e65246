// Websites: pick one, rename it (its analytics move with it), or delete it after typing its name.
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, call, get, type Website, websiteUuid } from '../api';
import { ErrorPage } from '../components/layout';
import { Card, FormCard, CopyCode, Field, Loader, Modal, TextField, toast, trackerSnippet, umamiSnippet } from '../components/ui';
import { useData } from '../data';
import { ShareLinks } from './shares';
import { validateHostname } from '../pages/websites';
import { setQuery, useLocation } from '../router';

function DeleteWebsite({ hostname, onDeleted }: { hostname: string; onDeleted: () => void }): JSX.Element {
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ApiError | null>(null);

  const close = (): void => {
    setOpen(false);
    setTyped('');
    setError(undefined);
  };

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    if (typed.trim() !== hostname) {
      setError('The domain name does not match.');
      return;
    }
    setBusy(true);
    try {
      await call('DELETE', `/websites/${encodeURIComponent(hostname)}`);
      close();
      toast('Deleted', `${hostname} and its analytics data are deleted.`);
      onDeleted();
    } catch (err) {
      if (err instanceof ApiError && err.status !== 401) setFailure(err);
    } finally {
      setBusy(false);
    }
  };

  if (failure) return <ErrorPage status={failure.status} message={failure.message} />;

  return (
    <Card
      tone="danger"
      title="Delete website"
      description="Deleting a website also deletes all of its analytics data. This cannot be undone."
      footer={
        <button type="button" class="button button-danger" disabled={!hostname} onClick={() => setOpen(true)}>
          Delete website…
        </button>
      }
    >
      <Modal
        open={open}
        tone="danger"
        title={`Delete ${hostname}?`}
        description="All page views and events of this website will be permanently deleted."
        onClose={close}
      >
        <form onSubmit={submit} noValidate>
          <TextField label={`Type ${hostname} to confirm`} error={error} value={typed} onInput={setTyped} autocomplete="off" spellcheck={false} />
          <div class="form-actions">
            <button type="button" class="button" onClick={close}>
              Cancel
            </button>
            <button type="submit" class="button button-danger" disabled={busy}>
              Delete website
            </button>
          </div>
        </form>
      </Modal>
    </Card>
  );
}

/** Both snippets for the chosen website: Medama's tracker and the Umami-style one with the website's UUID. */
function WebsiteSnippets({ hostname }: { hostname: string }): JSX.Element {
  const uuid = useData(`website-uuid:${hostname}`, (signal) => websiteUuid(hostname, signal));
  return (
    <Card
      title="Tracking snippets"
      description="Paste one of these into every page of the site. The Umami-style snippet also accepts umami.track() calls and data-umami-event buttons."
    >
      <p class="muted">Medama tracker</p>
      <CopyCode label="medama-snippet" code={trackerSnippet()} />
      <p class="muted">Umami-style tracker</p>
      {uuid.data ? (
        <>
          <CopyCode label="umami-snippet" code={umamiSnippet(uuid.data)} />
          <p class="muted">
            Website ID (for Umami clients such as @umami/node, with host URL {window.location.origin}/umami):{' '}
            <code>{uuid.data}</code>
          </p>
        </>
      ) : uuid.loading ? (
        <Loader />
      ) : (
        <p class="muted">The website ID could not be loaded{uuid.error ? ` (${uuid.error.message})` : ''}.</p>
      )}
    </Card>
  );
}

function RenameWebsite({ hostname, existing, onRenamed }: { hostname: string; existing: string[]; onRenamed: (name: string) => void }): JSX.Element {
  const [value, setValue] = useState(hostname);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ApiError | null>(null);

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    const name = value.trim().toLowerCase();
    if (name === hostname) return;
    const problem = validateHostname(name, existing);
    setError(problem);
    if (problem) return;
    setBusy(true);
    try {
      await call<Website>('PATCH', `/websites/${encodeURIComponent(hostname)}`, { body: { hostname: name } });
      toast('Renamed', `${hostname} is now ${name}. Its analytics moved with it.`);
      onRenamed(name);
    } catch (err) {
      if (err instanceof ApiError && (err.status === 409 || err.status === 400 || err.status === 404)) setError(err.message);
      else if (err instanceof ApiError && err.status !== 401) setFailure(err);
    } finally {
      setBusy(false);
    }
  };

  if (failure) return <ErrorPage status={failure.status} message={failure.message} />;

  return (
    <FormCard
      title="Rename website"
      description="Use this when the site moves to a new domain. Its analytics move with it."
      submitLabel="Save"
      busy={busy}
      disabled={!hostname || value.trim() === hostname}
      onSubmit={submit}
    >
      <TextField label="Domain name" error={error} value={value} onInput={setValue} autocomplete="off" spellcheck={false} disabled={!hostname} />
    </FormCard>
  );
}

export function WebsiteSettings(): JSX.Element {
  const sites = useData('websites', (signal) => get<Website[]>('/websites', { signal }));
  const { search } = useLocation();
  if (sites.error) return <ErrorPage status={sites.error.status} message={sites.error.message} />;
  if (!sites.data) return <Loader />;
  const names = sites.data.map((s) => s.hostname);
  const wanted = search.get('website');
  const selected = wanted && names.includes(wanted) ? wanted : (names[0] ?? '');

  return (
    <div class="stack">
      <Card title="Choose a website" description="The changes below apply to this website.">
        <Field label="Website">
          {({ id }) => (
            <select
              id={id}
              class="select"
              value={selected}
              disabled={names.length === 0}
              onChange={(e) => setQuery({ website: e.currentTarget.value }, { replace: true, keepScroll: true })}
            >
              {names.length === 0 && <option value="">No websites yet</option>}
              {names.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          )}
        </Field>
      </Card>
      {selected && <WebsiteSnippets key={`snippets-${selected}`} hostname={selected} />}
      {selected && <ShareLinks key={`shares-${selected}`} hostname={selected} />}
      <RenameWebsite
        key={selected}
        hostname={selected}
        existing={names}
        onRenamed={(name) => {
          setQuery({ website: name }, { replace: true, keepScroll: true });
          sites.reload();
        }}
      />
      <DeleteWebsite
        hostname={selected}
        onDeleted={() => {
          setQuery({ website: null }, { replace: true, keepScroll: true });
          sites.reload();
        }}
      />
    </div>
  );
}
