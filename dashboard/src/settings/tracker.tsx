// Tracker: which script variant /script.js serves, and the snippet to paste.
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, call, get, type TenantSettings } from '../api';
import { ErrorPage } from '../components/layout';
import { Card, Choice, Choices, FormCard, CopyCode, Loader, toast, trackerSnippet } from '../components/ui';
import { useData } from '../data';

const FEATURES = [
  {
    key: 'click-events',
    label: 'Click events',
    help: 'Record clicks on elements you tag with data-m:click="name=value" as custom properties.',
  },
  {
    key: 'page-events',
    label: 'Page view events',
    help: 'Attach custom properties to every page view from elements tagged data-m:load="name=value".',
  },
];

export function TrackerSettings(): JSX.Element {
  const settings = useData('tenant-settings', (signal) => get<TenantSettings>('/tenant/settings', { signal }));
  if (settings.error) return <ErrorPage status={settings.error.status} message={settings.error.message} />;
  if (!settings.data) return <Loader />;
  return <TrackerForm initial={settings.data} />;
}

function TrackerForm({ initial }: { initial: TenantSettings }): JSX.Element {
  const [enabled, setEnabled] = useState<string[]>(() => initial.script_type.filter((t) => t !== 'default'));
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ApiError | null>(null);

  if (failure) return <ErrorPage status={failure.status} message={failure.message} />;

  const toggle = (key: string, on: boolean): void =>
    setEnabled((list) => (on ? [...list.filter((k) => k !== key), key] : list.filter((k) => k !== key)));

  const save = async (event: Event): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    try {
      const ordered = FEATURES.map((f) => f.key).filter((k) => enabled.includes(k));
      const saved = await call<TenantSettings>('PATCH', '/tenant/settings', {
        body: { script_type: ['default', ...ordered] },
      });
      setEnabled(saved.script_type.filter((t) => t !== 'default'));
      toast('Saved', 'The tracker at /script.js now uses these features.');
    } catch (err) {
      if (err instanceof ApiError && err.status !== 401) setFailure(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="stack">
      <FormCard
        title="Tracker features"
        description="Choose what the tracker script records. Page views are always counted."
        submitLabel="Save"
        busy={busy}
        onSubmit={save}
      >
        <Choices legend="Tracker features">
          <Choice
            type="checkbox"
            title="Page views"
            hint="Counts visitors, page views, time on page, referrers and UTM tags. Always on."
            checked
            disabled
          />
          {FEATURES.map((f) => (
            <Choice
              key={f.key}
              type="checkbox"
              name={f.key}
              title={f.label}
              hint={f.help}
              checked={enabled.includes(f.key)}
              onChange={(on) => toggle(f.key, on)}
            />
          ))}
        </Choices>
      </FormCard>
      <Card
        title="Tracker code"
        description={
          <>
            Paste this into the <code>&lt;head&gt;</code> of every page you want to count. It is the same for all your
            websites.
          </>
        }
      >
        <CopyCode code={trackerSnippet()} label="tracker snippet" />
      </Card>
    </div>
  );
}
