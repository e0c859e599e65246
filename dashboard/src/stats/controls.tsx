// Date range, custom range dialog, chart interval and chart type.
import { Fragment, type JSX } from 'preact';
import { useState } from 'preact/hooks';
import { AreaIcon, BarIcon, CalendarIcon } from '../components/icons';
import { Field, Modal } from '../components/ui';
import { allowedIntervals, dayString, EARLIEST, type Interval, INTERVALS, parseDay, PRESETS, type Range } from '../dates';
import { getLocation, setQuery } from '../router';

function CustomRange({ open, onClose }: { open: boolean; onClose: () => void }): JSX.Element {
  const { search } = getLocation();
  const now = new Date();
  const firstOfPrevious = new Date(now.getFullYear(), now.getMonth() - 1, 1);
  const lastOfPrevious = new Date(now.getFullYear(), now.getMonth(), 0);
  const [start, setStart] = useState(search.get('start') ?? dayString(firstOfPrevious < EARLIEST ? EARLIEST : firstOfPrevious));
  const [end, setEnd] = useState(search.get('end') ?? dayString(lastOfPrevious < EARLIEST ? now : lastOfPrevious));
  const [error, setError] = useState<string>();
  const min = dayString(EARLIEST);
  const max = dayString(now);

  const submit = (event: Event): void => {
    event.preventDefault();
    const from = parseDay(start);
    const to = parseDay(end);
    if (!from || !to) return setError('Choose both a start and an end date.');
    if (to < from) return setError('The end date is before the start date.');
    setError(undefined);
    onClose();
    setQuery({ period: 'custom', start, end });
  };

  return (
    <Modal open={open} title="Choose a date range" description="Both days are included." onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <div class="filter-form-row">
          <Field label="From">
            {({ id }) => (
              <input id={id} type="date" min={min} max={max} value={start} onInput={(e) => setStart(e.currentTarget.value)} required />
            )}
          </Field>
          <Field label="To">
            {({ id }) => (
              <input id={id} type="date" min={min} max={max} value={end} onInput={(e) => setEnd(e.currentTarget.value)} required />
            )}
          </Field>
        </div>
        {error && (
          <div class="field-error" role="alert">
            {error}
          </div>
        )}
        <div class="form-actions">
          <button type="button" class="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="button button-primary">
            Apply
          </button>
        </div>
      </form>
    </Modal>
  );
}

export function DateRangePicker({ range }: { range: Range }): JSX.Element {
  const [customOpen, setCustomOpen] = useState(false);
  const known = PRESETS.some((p) => p.key === range.period);
  return (
    <div class="control">
      <label for="period" class="control-label">
        <CalendarIcon />
        <span>Date range</span>
      </label>
      <div class="control-row">
        <select
          id="period"
          class="select"
          value={range.period}
          onChange={(e) => {
            const value = e.currentTarget.value;
            if (value === 'custom') {
              e.currentTarget.value = range.period;
              setCustomOpen(true);
            } else {
              setQuery({ period: value, start: null, end: null, interval: null });
            }
          }}
        >
          {!known && <option value={range.period}>{range.label}</option>}
          {PRESETS.map((p) => (
            <Fragment key={p.key}>
              <option value={p.key}>
                {p.key === 'custom' && range.period === 'custom' ? range.label : p.label}
              </option>
              {p.divider && <hr />}
            </Fragment>
          ))}
        </select>
        {range.period === 'custom' && (
          <button type="button" class="button button-small" onClick={() => setCustomOpen(true)}>
            Change dates
          </button>
        )}
      </div>
      {customOpen && <CustomRange open={customOpen} onClose={() => setCustomOpen(false)} />}
    </div>
  );
}

export function IntervalPicker({ range, interval }: { range: Range; interval: Interval }): JSX.Element {
  const allowed = allowedIntervals(range);
  return (
    <div class="control">
      <label for="interval" class="control-label">
        Interval
      </label>
      <select
        id="interval"
        class="select"
        value={interval}
        onChange={(e) => {
          const value = e.currentTarget.value;
          setQuery({ interval: value === range.defaultInterval ? null : value });
        }}
      >
        {INTERVALS.filter((i) => allowed.includes(i.key)).map((i) => (
          <option key={i.key} value={i.key}>
            {i.label}
          </option>
        ))}
      </select>
    </div>
  );
}

export function ChartTypeToggle({ type }: { type: 'area' | 'bar' }): JSX.Element {
  return (
    <div class="segmented" role="group" aria-label="Chart type">
      <button
        type="button"
        aria-pressed={type === 'area'}
        title="Area chart"
        onClick={() => setQuery({ 'chart[type]': null })}
      >
        <AreaIcon />
        <span class="visually-hidden">Area chart</span>
      </button>
      <button type="button" aria-pressed={type === 'bar'} title="Bar chart" onClick={() => setQuery({ 'chart[type]': 'bar' })}>
        <BarIcon />
        <span class="visually-hidden">Bar chart</span>
      </button>
    </div>
  );
}
