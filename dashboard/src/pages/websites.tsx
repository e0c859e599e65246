// "My websites": one card per site with its last-24-hours visitors, and adding a site.
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, call, get, type Website } from '../api';
import { PlusIcon } from '../components/icons';
import { ErrorPage, PageHead } from '../components/layout';
import { CopyCode, Loader, Modal, TextField, trackerSnippet } from '../components/ui';
import { useData, useTitle } from '../data';
import { useRole } from '../role';
import { formatWhole } from '../format';
import { Link, navigate } from '../router';

const FQDN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/i;

/** What a user may add: `localhost` or a fully qualified domain name, without scheme or path. */
export function validateHostname(value: string, existing: string[]): string | undefined {
  if (!value) return 'Please enter a domain name.';
  if (value !== 'localhost' && !FQDN.test(value)) return 'Please enter a valid domain name, like example.com.';
  if (existing.includes(value)) return 'Website already exists.';
  return undefined;
}

/** People paste URLs; keep just the host. */
function cleanHostname(raw: string): string {
  let value = raw.trim().toLowerCase();
  value = value.replace(/^[a-z]+:\/\//, '');
  value = value.split(/[/?#]/)[0];
  return value.replace(/:\d+$/, '');
}

function AddWebsite({ existing, open, onClose }: { existing: string[]; open: boolean; onClose: () => void }): JSX.Element {
  const [value, setValue] = useState('');
  const [error, setError] = useState<string>();
  const [added, setAdded] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ApiError | null>(null);

  const reset = (): void => {
    setValue('');
    setError(undefined);
    setAdded(null);
    onClose();
  };

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    const hostname = cleanHostname(value);
    const problem = validateHostname(hostname, existing);
    setError(problem);
    if (problem) return;
    setBusy(true);
    try {
      await call('POST', '/websites', { body: { hostname } });
      setAdded(hostname);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) setError('Website already exists.');
      else if (err instanceof ApiError && err.status === 400) setError(err.message);
      else if (err instanceof ApiError && err.status !== 401) setFailure(err);
    } finally {
      setBusy(false);
    }
  };

  if (failure) return <ErrorPage status={failure.status} message={failure.message} />;

  if (added) {
    return (
      <Modal open={open} title={`${added} is ready`} onClose={() => navigate(`/${added}`)} wide>
        <p>
          Paste this line into the <code>&lt;head&gt;</code> of every page of <strong>{added}</strong>. Visits show up
          on the dashboard within seconds.
        </p>
        <CopyCode code={trackerSnippet()} label="tracker snippet" />
        <p class="field-hint">
          The tracker sets no cookies. Click and page-view events can be switched on under Settings → Tracker.
        </p>
        <div class="form-actions">
          <button type="button" class="button button-primary" onClick={() => navigate(`/${added}`)}>
            Go to the dashboard
          </button>
        </div>
      </Modal>
    );
  }

  return (
    <Modal
      open={open}
      title="Add a website"
      description="Tell Medama which site to collect visits for."
      onClose={reset}
    >
      <form onSubmit={submit} noValidate>
        <TextField
          label="Domain name"
          hint="The domain or subdomain of your website, e.g. blog.example.com."
          error={error}
          name="hostname"
          value={value}
          onInput={setValue}
          placeholder="yourwebsite.com"
          autocomplete="off"
          autocapitalize="none"
          spellcheck={false}
          required
        />
        <div class="form-actions">
          <button type="button" class="button" onClick={reset}>
            Cancel
          </button>
          <button type="submit" class="button button-primary" disabled={busy}>
            Add website
          </button>
        </div>
      </form>
    </Modal>
  );
}

export function WebsitesPage(): JSX.Element {
  useTitle('Medama | Privacy Focused Web Analytics');
  const sites = useData('websites', (signal) => get<Website[]>('/websites?summary=true', { signal }));
  const [adding, setAdding] = useState(false);
  const admin = useRole() === 'admin';

  if (sites.error) return <ErrorPage status={sites.error.status} message={sites.error.message} />;
  const list = sites.data ?? [];

  return (
    <div class="page-width">
      <PageHead title="My websites">
        {admin && (
          <button type="button" class="button button-primary" onClick={() => setAdding(true)}>
            <PlusIcon />
            Add website
          </button>
        )}
      </PageHead>
      {sites.data === undefined ? (
        <Loader />
      ) : list.length === 0 ? (
        <div class="empty-box">
          <p>
            <strong>No websites yet.</strong>
          </p>
          {admin ? (
            <>
              <p class="muted">Add your first website to get the tracking snippet.</p>
              <button type="button" class="button button-primary" onClick={() => setAdding(true)}>
                <PlusIcon />
                Add website
              </button>
            </>
          ) : (
            <p class="muted">No website has been shared with you yet. Ask an admin of this server.</p>
          )}
        </div>
      ) : (
        <ul class="site-grid" aria-label="Websites">
          {list.map((site) => (
            <li key={site.hostname}>
              <Link href={`/${site.hostname}`} class="card site-card">
                <span class="site-name">{site.hostname}</span>
                <span class="site-summary" data-testid="site-visitors">
                  <strong>{site.summary ? formatWhole(site.summary.visitors) : 'N/A'}</strong> visitors in the last 24
                  hours
                </span>
              </Link>
            </li>
          ))}
        </ul>
      )}
      <AddWebsite existing={list.map((s) => s.hostname)} open={adding} onClose={() => setAdding(false)} />
    </div>
  );
}
