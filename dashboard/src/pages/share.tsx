// /share/<slug>: a website's stats for anyone holding the link, read-only (docs/accounts.md).
// Opening the link gives a token that every stats call then carries; a revoked link answers 404.
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, type ShareAccess } from '../api';
import { ErrorPage, LinkGone } from '../components/layout';
import { Card, Field, Loader, PasswordInput } from '../components/ui';
import { useTitle } from '../data';
import { PeriodError } from '../dates';
import { useLocation } from '../router';
import { setShareToken } from '../share';
import { Stats } from '../stats/stats-page';
import { readView } from '../stats/view';

type Opening = { state: 'opening' } | { state: 'password'; error?: string } | { state: 'gone' } | { state: 'failed'; error: ApiError };

async function open(slug: string, password?: string): Promise<ShareAccess> {
  const body = password === undefined ? {} : { password };
  return call<ShareAccess>('POST', `/share/${encodeURIComponent(slug)}`, { body, allow401: true });
}

function PasswordForm({ error, onSubmit }: { error?: string; onSubmit: (password: string) => void }): JSX.Element {
  const [password, setPassword] = useState('');
  return (
    <div class="page-width narrow">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          onSubmit(password);
        }}
        noValidate
      >
        <Card
          title="This link is protected"
          description="Enter the password you were given with the link."
          footer={
            <button type="submit" class="button button-primary">
              View statistics
            </button>
          }
        >
          <Field label="Password" error={error}>
            {({ id, describedBy, invalid }) => (
              <PasswordInput id={id} value={password} onInput={setPassword} autocomplete="off" describedBy={describedBy} invalid={invalid} required />
            )}
          </Field>
        </Card>
      </form>
    </div>
  );
}

export function SharePage({ slug, dataset }: { slug: string; dataset?: string }): JSX.Element {
  useTitle('Shared dashboard | Medama');
  const { search } = useLocation();
  const [hostname, setHostname] = useState<string | null>(null);
  const [opening, setOpening] = useState<Opening>({ state: 'opening' });

  const attempt = async (password?: string): Promise<void> => {
    try {
      const access = await open(slug, password);
      setShareToken(access.token);
      setHostname(access.hostname);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.status === 404) setOpening({ state: 'gone' });
      else if (err.status === 401) setOpening({ state: 'password', error: password === undefined ? undefined : 'Wrong password.' });
      else if (err.status === 429) setOpening({ state: 'password', error: 'Too many attempts. Wait a few minutes and try again.' });
      else setOpening({ state: 'failed', error: err });
    }
  };

  useEffect(() => {
    void attempt();
    return () => setShareToken(null);
  }, [slug]);

  if (hostname !== null) {
    const view = readView(hostname, search, `/share/${slug}`);
    if (view instanceof PeriodError) return <ErrorPage status={400} message={view.message} />;
    return <Stats view={view} datasetKey={dataset} shared />;
  }
  if (opening.state === 'gone') return <LinkGone />;
  if (opening.state === 'password') return <PasswordForm error={opening.error} onSubmit={(p) => void attempt(p)} />;
  if (opening.state === 'failed') return <ErrorPage status={opening.error.status} message={opening.error.message} />;
  return <Loader />;
}
