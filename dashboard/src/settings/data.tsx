// Data: how long analytics rows are kept (docs/data.md#retention). Older rows are deleted by a
// daily pass on the server; 0 months means keep everything.
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { call, get, type Retention } from '../api';
import { ErrorPage } from '../components/layout';
import { Choice, Choices, FormCard, Field, Loader, toast, useSubmit } from '../components/ui';
import { useData } from '../data';

const MAX_MONTHS = 1200;

export function DataSettings(): JSX.Element {
  const retention = useData('retention', (signal) => get<Retention>('/data/retention', { signal }));
  if (retention.error) return <ErrorPage status={retention.error.status} message={retention.error.message} />;
  if (!retention.data) return <Loader />;
  return <RetentionForm initial={retention.data.months} />;
}

function describe(months: number): string {
  if (months === 0) return 'All data is kept.';
  return `Page views and events older than ${months} month${months === 1 ? '' : 's'} are deleted once a day.`;
}

function RetentionForm({ initial }: { initial: number }): JSX.Element {
  const [saved, setSaved] = useState(initial);
  const [forever, setForever] = useState(initial === 0);
  const [months, setMonths] = useState(String(initial === 0 ? 24 : initial));
  const { submit, error, busy } = useSubmit(
    async () => {
      const result = await call<Retention>('PATCH', '/data/retention', { body: { months: forever ? 0 : Number(months) } });
      setSaved(result.months);
      toast('Saved', describe(result.months));
    },
    {
      validate: () => {
        const value = Number(months);
        const valid = forever || (Number.isInteger(value) && value >= 1 && value <= MAX_MONTHS);
        return valid ? undefined : `Enter a whole number of months from 1 to ${MAX_MONTHS}.`;
      },
    },
  );

  return (
    <FormCard
      title="Data retention"
      description="Choose how long page views and events are kept. Once a day the server permanently deletes rows older than the limit; they cannot be recovered, so export or back up first if you need them."
      submitLabel="Save"
      busy={busy}
      onSubmit={submit}
    >
      <Choices legend="Keep data">
        <Choice type="radio" name="retention" title="Keep forever" checked={forever} onChange={() => setForever(true)} />
        <Choice
          type="radio"
          name="retention"
          title="Keep for a number of months"
          checked={!forever}
          onChange={() => setForever(false)}
        />
      </Choices>
      {!forever && (
        <Field label="Months to keep" hint="Counted in calendar months back from today." error={error}>
          {({ id, describedBy, invalid }) => (
            <input
              id={id}
              type="number"
              min={1}
              max={MAX_MONTHS}
              step={1}
              value={months}
              aria-describedby={describedBy}
              aria-invalid={invalid}
              onInput={(e) => setMonths(e.currentTarget.value)}
            />
          )}
        </Field>
      )}
      {forever && error && (
        <div class="field-error" role="alert">
          {error}
        </div>
      )}
      <p class="field-hint" data-testid="retention-current">
        Now: {describe(saved)}
      </p>
    </FormCard>
  );
}
