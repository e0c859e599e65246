// Settings → Websites → Share: public read-only links to one website's stats (docs/accounts.md).
// Any number per website, each optionally with a password and an expiry; revoking takes effect at once.
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, call, get, type ShareLink } from '../api';
import { ErrorPage } from '../components/layout';
import { Card, CopyCode, Field, FormCard, Loader, PasswordInput, toast, useSubmit } from '../components/ui';
import { useData } from '../data';

const EXPIRIES: { label: string; seconds: number | null }[] = [
  { label: 'Never', seconds: null },
  { label: 'In 1 day', seconds: 86400 },
  { label: 'In 7 days', seconds: 7 * 86400 },
  { label: 'In 30 days', seconds: 30 * 86400 },
  { label: 'In 1 year', seconds: 365 * 86400 },
];

function when(seconds: number | null | undefined, none: string): string {
  return seconds ? new Date(seconds * 1000).toLocaleString() : none;
}

function CreateLink({ hostname, onCreated }: { hostname: string; onCreated: () => void }): JSX.Element {
  const [password, setPassword] = useState('');
  const [expiry, setExpiry] = useState(0);
  const { submit, error, busy } = useSubmit(
    async () => {
      const seconds = EXPIRIES[expiry].seconds;
      const body: Record<string, unknown> = {};
      if (password) body.password = password;
      if (seconds !== null) body.expiresIn = seconds;
      await call<ShareLink>('POST', `/websites/${encodeURIComponent(hostname)}/shares`, { body });
      toast('Link created', `Anyone with the new link can read ${hostname}'s statistics.`);
      setPassword('');
      onCreated();
    },
    {
      validate: () =>
        password && (password.length < 5 || password.length > 128) ? 'Passwords have 5 to 128 characters (or leave it empty).' : undefined,
    },
  );

  return (
    <FormCard title="Share this website" description="A share link shows this website's statistics, read-only, to anyone who has it: no account, no settings, no other websites." submitLabel="Create share link" busy={busy} onSubmit={submit}>
      <Field label="Password (optional)" error={error}>
        {({ id, describedBy, invalid }) => (
          <PasswordInput id={id} value={password} onInput={setPassword} autocomplete="new-password" describedBy={describedBy} invalid={invalid} />
        )}
      </Field>
      <Field label="Expires">
        {({ id }) => (
          <select id={id} class="select" value={String(expiry)} onChange={(e) => setExpiry(Number(e.currentTarget.value))}>
            {EXPIRIES.map((option, index) => (
              <option key={option.label} value={String(index)}>
                {option.label}
              </option>
            ))}
          </select>
        )}
      </Field>
    </FormCard>
  );
}

function LinkList({ hostname, links, onRevoked }: { hostname: string; links: ShareLink[]; onRevoked: () => void }): JSX.Element {
  const [failure, setFailure] = useState<ApiError | null>(null);
  const revoke = async (link: ShareLink): Promise<void> => {
    if (!window.confirm('Revoke this link? Its page stops working at once.')) return;
    try {
      await call('DELETE', `/websites/${encodeURIComponent(hostname)}/shares/${encodeURIComponent(link.id)}`);
      toast('Revoked', 'The link no longer works.');
      onRevoked();
    } catch (err) {
      if (err instanceof ApiError && err.status !== 401) setFailure(err);
    }
  };
  if (failure) return <ErrorPage status={failure.status} message={failure.message} />;
  return (
    <Card title="Share links" description="Revoking a link makes its page answer “no longer available” from the next request on.">
      {links.length === 0 ? (
        <p class="muted">This website is not shared.</p>
      ) : (
        <ul class="stack" aria-label="Share links">
          {links.map((link, index) => (
            <li key={link.id} class="card share-link" data-testid="share-link">
              <CopyCode label={`share-link-${index + 1}`} code={`${window.location.origin}${link.path}`} />
              <p class="muted">
                Created {when(link.dateCreated, '')} · last opened {when(link.dateLastUsed, 'never')} · expires{' '}
                {when(link.dateExpires, 'never')}
                {link.hasPassword ? ' · password protected' : ''}
              </p>
              <button type="button" class="button button-small button-danger" onClick={() => void revoke(link)}>
                Revoke link
              </button>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

export function ShareLinks({ hostname }: { hostname: string }): JSX.Element {
  const links = useData(`shares:${hostname}`, (signal) => get<ShareLink[]>(`/websites/${encodeURIComponent(hostname)}/shares`, { signal }));
  if (links.error) return <ErrorPage status={links.error.status} message={links.error.message} />;
  if (!links.data) return <Loader />;
  return (
    <div class="stack" id="share">
      <CreateLink hostname={hostname} onCreated={links.reload} />
      <LinkList hostname={hostname} links={links.data} onRevoked={links.reload} />
    </div>
  );
}
