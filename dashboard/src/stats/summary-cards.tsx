// The summary view: five cards of top-5 lists, grouped in tabs, each with a link to its full table.
import type { JSX } from 'preact';
import { useId, useRef, useState } from 'preact/hooks';
import { ApiError, get, type Row } from '../api';
import { ChevronRightIcon } from '../components/icons';
import { useData } from '../data';
import { hasEq, paramName } from '../filters';
import { formatPercent } from '../format';
import { getLocation, Link, navigate, withQuery } from '../router';
import { CARDS, type Dataset, dataset, displayName, formatValue, rowFilter, rowName } from './datasets';
import { applyFilter } from './filter-bar';
import { DatasetSwitch, ExternalLink } from './rows';
import { listUrl, type StatsView, withoutPropertyFilters } from './view';

type Results = Record<string, Row[] | ApiError>;

async function loadAll(view: StatsView, signal: AbortSignal): Promise<{ lists: Results; propertyNames: string[] }> {
  const keys = CARDS.flatMap((c) => c.tabs);
  const calls = keys.map((key) => get<Row[]>(listUrl(view, dataset(key), { summary: true, limit: 5 }), { signal }));
  const names = get<Row[]>(listUrl(view, dataset('properties'), { summary: false, query: withoutPropertyFilters(view) }), {
    signal,
  });
  const settled = await Promise.allSettled([...calls, names]);
  const lists: Results = {};
  keys.forEach((key, i) => {
    const result = settled[i];
    lists[key] = result.status === 'fulfilled' ? result.value : toError(result.reason);
  });
  const last = settled[settled.length - 1];
  const propertyNames =
    last.status === 'fulfilled' ? last.value.map((r) => (typeof r.name === 'string' ? r.name : '')).filter(Boolean) : [];
  // A 401 has already sent the user to the login page; surface it so nothing renders meanwhile.
  const redirected = settled.find((s) => s.status === 'rejected' && s.reason instanceof ApiError && s.reason.status === 401);
  if (redirected && redirected.status === 'rejected') throw redirected.reason;
  return { lists, propertyNames };
}

function toError(reason: unknown): ApiError {
  return reason instanceof ApiError ? reason : new ApiError(0, String(reason));
}

function BarList({ ds, rows, view }: { ds: Dataset; rows: Row[]; view: StatsView }): JSX.Element {
  if (rows.length === 0) return <p class="empty">No records found for this period.</p>;
  return (
    <ul class="bar-list" data-testid={`list-${ds.key}`}>
      {rows.map((row) => {
        const name = rowName(ds, row, view.filters);
        const label = displayName(ds, name);
        const share = typeof row[ds.metricPercent] === 'number' ? (row[ds.metricPercent] as number) : 0;
        const value = formatValue(ds.key === 'time' ? 'duration' : 'count', row[ds.metric]);
        return (
          <li key={name} class="bar-row">
            <button
              type="button"
              class="bar-button"
              onClick={() => applyFilter(rowFilter(ds, name, view.filters))}
              title={`Filter by ${label}`}
            >
              <span class="bar-fill" style={{ width: `${Math.min(share, 1) * 100}%` }} aria-hidden="true" />
              <span class="bar-label">
                <span class="visually-hidden">Filter by </span>
                {label}
              </span>
              <span class="bar-share">{formatPercent(share)}</span>
              <span class="bar-value" data-value={String(row[ds.metric] ?? '')}>
                {value}
              </span>
            </button>
            <ExternalLink ds={ds} name={name} />
          </li>
        );
      })}
    </ul>
  );
}

function PropertyPicker({ names, view }: { names: string[]; view: StatsView }): JSX.Element {
  const current = view.filters.find((f) => f.dim === 'prop_name' && f.op === 'eq')?.value ?? '';
  const choose = (name: string): void => {
    const { path, search } = getLocation();
    const next = new URLSearchParams(search);
    next.delete(paramName({ dim: 'prop_name', op: 'eq' }));
    if (name) next.append(paramName({ dim: 'prop_name', op: 'eq' }), name);
    navigate(withQuery(path, next), { keepScroll: true });
  };
  return (
    <label class="inline-select">
      <span class="visually-hidden">Property</span>
      <select class="select select-small" value={current} disabled={names.length === 0} onChange={(e) => choose(e.currentTarget.value)}>
        <option value="">{names.length === 0 ? 'No properties found' : 'All properties'}</option>
        {names.map((n) => (
          <option key={n} value={n}>
            {n}
          </option>
        ))}
        {current && !names.includes(current) && <option value={current}>{current}</option>}
      </select>
    </label>
  );
}

function Card({ title, tabs, wide, view, results, names }: {
  title: string;
  tabs: string[];
  wide?: boolean;
  view: StatsView;
  results: Results | undefined;
  names: string[];
}): JSX.Element {
  const [active, setActive] = useState(tabs[0]);
  const id = useId();
  const tabRefs = useRef<(HTMLButtonElement | null)[]>([]);
  const ds = dataset(active);
  const result = results?.[active];
  const { search } = getLocation();
  const more = withQuery(`${view.base}/${active}`, search);

  const onKey = (event: KeyboardEvent, index: number): void => {
    const delta = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (!delta) return;
    event.preventDefault();
    const next = (index + delta + tabs.length) % tabs.length;
    setActive(tabs[next]);
    tabRefs.current[next]?.focus();
  };

  return (
    <section class={`card list-card${wide ? ' list-card-wide' : ''}`} aria-label={title} data-testid={`card-${tabs[0]}`}>
      <div class="list-card-head">
        {tabs.length > 1 ? (
          <div role="tablist" aria-label={title} class="tabs">
            {tabs.map((key, index) => (
              <button
                key={key}
                ref={(el) => {
                  tabRefs.current[index] = el;
                }}
                type="button"
                role="tab"
                id={`${id}-${key}`}
                aria-selected={key === active}
                aria-controls={`${id}-panel`}
                tabIndex={key === active ? 0 : -1}
                onClick={() => setActive(key)}
                onKeyDown={(e) => onKey(e, index)}
              >
                {dataset(key).label}
              </button>
            ))}
          </div>
        ) : (
          <h2 class="list-card-title">{title}</h2>
        )}
        {ds.key === 'properties' && <PropertyPicker names={names} view={view} />}
        <DatasetSwitch ds={ds} view={view} />
      </div>
      <div
        id={`${id}-panel`}
        role={tabs.length > 1 ? 'tabpanel' : undefined}
        aria-labelledby={tabs.length > 1 ? `${id}-${active}` : undefined}
        class="list-card-body"
      >
        <div class="bar-list-head" aria-hidden="true">
          <span>{ds.key === 'properties' && hasEq(view.filters, 'prop_name') ? 'Value' : ds.nameHeader}</span>
          <span>{ds.key === 'time' ? 'Median time' : ds.key === 'properties' ? 'Events' : 'Visitors'}</span>
        </div>
        {result === undefined ? (
          <div class="skeleton-list" aria-hidden="true" />
        ) : result instanceof ApiError ? (
          <p class="empty">Could not load this list: {result.message}</p>
        ) : (
          <BarList ds={ds} rows={result} view={view} />
        )}
      </div>
      <div class="list-card-foot">
        <Link href={more} class="more-link" data-testid={`more-${active}`}>
          Show all<span class="visually-hidden"> {ds.navLabel.toLowerCase()}</span>
          <ChevronRightIcon />
        </Link>
      </div>
    </section>
  );
}

export function SummaryCards({ view }: { view: StatsView }): JSX.Element {
  const key = `${view.hostname}?${view.query.toString()}&g=${view.grouped}&l=${view.locale}`;
  const loaded = useData(key, (signal) => loadAll(view, signal));
  return (
    <div class={`card-grid${loaded.loading ? ' is-loading' : ''}`}>
      {CARDS.map((card) => (
        <Card
          key={card.title}
          title={card.title}
          tabs={card.tabs}
          wide={card.wide}
          view={view}
          results={loaded.data?.lists ?? (loaded.error ? errorResults(card.tabs, loaded.error) : undefined)}
          names={loaded.data?.propertyNames ?? []}
        />
      ))}
    </div>
  );
}

function errorResults(tabs: string[], error: ApiError): Results {
  return Object.fromEntries(tabs.map((t) => [t, error]));
}
