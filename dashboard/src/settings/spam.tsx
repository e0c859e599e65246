// Spam: the curated IP blocklists and a manual list of blocked IPv4 addresses.
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, call, get, type TenantSettings } from '../api';
import { ErrorPage } from '../components/layout';
import { Card, Choice, Choices, FormCard, Field, Loader, toast } from '../components/ui';
import { useData } from '../data';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function SpamSettings(): JSX.Element {
  const settings = useData('tenant-settings', (signal) => get<TenantSettings>('/tenant/settings', { signal }));
  if (settings.error) return <ErrorPage status={settings.error.status} message={settings.error.message} />;
  if (!settings.data) return <Loader />;
  return <SpamForm initial={settings.data} />;
}

function SpamForm({ initial }: { initial: TenantSettings }): JSX.Element {
  const [abusive, setAbusive] = useState(initial.blockAbusiveIPs);
  const [tor, setTor] = useState(initial.blockTorExitNodes);
  const [ips, setIps] = useState<string[]>(initial.blockedIPs);
  const [newIp, setNewIp] = useState('');
  const [ipError, setIpError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ApiError | null>(null);

  if (failure) return <ErrorPage status={failure.status} message={failure.message} />;

  const save = async (patch: Partial<TenantSettings>, message: string): Promise<boolean> => {
    setBusy(true);
    try {
      const saved = await call<TenantSettings>('PATCH', '/tenant/settings', {
        body: { blockAbusiveIPs: abusive, blockTorExitNodes: tor, blockedIPs: ips, ...patch },
      });
      setAbusive(saved.blockAbusiveIPs);
      setTor(saved.blockTorExitNodes);
      setIps(saved.blockedIPs);
      toast('Saved', message);
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.status === 400) setIpError(err.message);
      else if (err instanceof ApiError && err.status !== 401) setFailure(err);
      return false;
    } finally {
      setBusy(false);
    }
  };

  const addIp = async (event: Event): Promise<void> => {
    event.preventDefault();
    const ip = newIp.trim();
    if (!ip) return;
    if (!IPV4.test(ip)) {
      setIpError('Enter an IPv4 address such as 203.0.113.7.');
      return;
    }
    setIpError(undefined);
    if (ips.includes(ip)) {
      setNewIp('');
      return;
    }
    if (await save({ blockedIPs: [...ips, ip] }, `${ip} is blocked.`)) setNewIp('');
  };

  return (
    <div class="stack">
      <FormCard
        title="Blocklists"
        description="Drop visits from addresses on well-known lists. Local and private networks are never blocked."
        submitLabel="Save"
        busy={busy}
        onSubmit={(e) => {
          e.preventDefault();
          void save({}, 'Spam protection settings are updated.');
        }}
      >
        <Choices legend="Blocklists">
          <Choice
            type="checkbox"
            name="abusive"
            title="Abusive IP addresses"
            hint={
              <>
                Addresses known for attacks, malware and spam, from the{' '}
                <a href="https://iplists.firehol.org/?ipset=firehol_level1" target="_blank" rel="noopener noreferrer">
                  FireHOL level 1
                </a>{' '}
                list.
              </>
            }
            checked={abusive}
            onChange={setAbusive}
          />
          <Choice
            type="checkbox"
            name="tor"
            title="Tor exit nodes"
            hint={
              <>
                Traffic leaving the Tor network, from the{' '}
                <a href="https://check.torproject.org/torbulkexitlist" target="_blank" rel="noopener noreferrer">
                  Tor Project's list
                </a>
                .
              </>
            }
            checked={tor}
            onChange={setTor}
          />
        </Choices>
      </FormCard>
      <Card title="Blocked IP addresses" description="Visits from these addresses are ignored. Changes are saved at once.">
        <form class="inline-form" onSubmit={addIp} noValidate>
          <Field label="Add an IP address" error={ipError}>
            {({ id, describedBy, invalid }) => (
              <div class="input-with-action">
                <input
                  id={id}
                  value={newIp}
                  onInput={(e) => setNewIp(e.currentTarget.value)}
                  placeholder="192.168.1.1"
                  inputMode="decimal"
                  autocomplete="off"
                  aria-describedby={describedBy}
                  aria-invalid={invalid || undefined}
                />
                <button type="submit" class="button" disabled={busy}>
                  Add
                </button>
              </div>
            )}
          </Field>
        </form>
        {ips.length === 0 ? (
          <p class="empty">No IP addresses are blocked yet.</p>
        ) : (
          <ul class="ip-list" aria-label="Blocked IP addresses">
            {ips.map((ip) => (
              <li key={ip}>
                <code>{ip}</code>
                <button
                  type="button"
                  class="button button-small"
                  disabled={busy}
                  aria-label={`Unblock ${ip}`}
                  onClick={() => void save({ blockedIPs: ips.filter((x) => x !== ip) }, `${ip} is no longer blocked.`)}
                >
                  Remove
                </button>
              </li>
            ))}
          </ul>
        )}
      </Card>
    </div>
  );
}
