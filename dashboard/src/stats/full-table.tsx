// The "more" view of one dataset: every row, sortable columns and client-side paging.
import type { JSX } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { get, type Row } from '../api';
import { ArrowLeftIcon, ChevronLeftIcon, ChevronRightIcon, SortIcon } from '../components/icons';
import { ErrorPage } from '../components/layout';
import { useData } from '../data';
import { hasEq } from '../filters';
import { getLocation, Link, withQuery } from '../router';
import { type Dataset, DATASETS, displayName, formatValue, rowFilter, rowName } from './datasets';
import { applyFilter } from './filter-bar';
import { DatasetSwitch, ExternalLink } from './rows';
import { listUrl, type StatsView } from './view';

const PAGE_SIZES = [10, 25, 50, 100];

interface Sort {
  field: string;
  desc: boolean;
}

function defaultSort(ds: Dataset): Sort {
  return { field: ds.key === 'properties' ? 'events' : 'visitors', desc: true };
}

function nameHeader(ds: Dataset, view: StatsView): string {
  if (ds.key === 'properties') return hasEq(view.filters, 'prop_name') ? 'Value' : 'Property';
  if (ds.key === 'languages' && view.locale) return 'Language (dialect)';
  return ds.nameHeader;
}

function DatasetNav({ view, current }: { view: StatsView; current: string }): JSX.Element {
  const { search } = getLocation();
  return (
    <nav class="dataset-nav" aria-label="Breakdowns">
      <Link href={withQuery(view.base, search)} class="button button-small back-link" keepScroll>
        <ArrowLeftIcon />
        Back to overview
      </Link>
      <ul>
        {DATASETS.map((d) => (
          <li key={d.key}>
            <Link
              href={withQuery(`${view.base}/${d.key}`, search)}
              aria-current={d.key === current ? 'page' : undefined}
              keepScroll
            >
              {d.navLabel}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}

export function FullTable({ view, ds }: { view: StatsView; ds: Dataset }): JSX.Element {
  const url = listUrl(view, ds, { summary: false });
  const loaded = useData(url, (signal) => get<Row[]>(url, { signal }));
  const [sort, setSort] = useState<Sort>(defaultSort(ds));
  const [size, setSize] = useState(10);
  const [page, setPage] = useState(1);
  const rows = loaded.data ?? [];

  // A different dataset or a new result starts again on page 1 with 10 rows.
  useEffect(() => {
    setSort(defaultSort(ds));
  }, [ds.key]);
  useEffect(() => {
    setPage(1);
    setSize(10);
  }, [ds.key, rows.length]);

  const sorted = useMemo(() => {
    const copy = [...rows];
    copy.sort((a, b) => {
      const x = Number(a[sort.field] ?? 0);
      const y = Number(b[sort.field] ?? 0);
      return sort.desc ? y - x : x - y;
    });
    return copy;
  }, [rows, sort]);

  if (loaded.error) return <ErrorPage status={loaded.error.status} message={loaded.error.message} />;

  const pages = Math.max(1, Math.ceil(sorted.length / size));
  const shown = sorted.slice((page - 1) * size, page * size);
  const header = nameHeader(ds, view);

  const toggleSort = (field: string): void => {
    setSort((s) => (s.field === field ? { field, desc: !s.desc } : { field, desc: true }));
    setPage(1);
  };

  return (
    <div class="table-layout">
      <DatasetNav view={view} current={ds.key} />
      <section class="card table-card" aria-labelledby="table-title">
        <div class="table-card-head">
          <h2 id="table-title">{ds.navLabel}</h2>
          <DatasetSwitch ds={ds} view={view} />
        </div>
        <div class={`table-scroll${loaded.loading ? ' is-loading' : ''}`}>
          <table class="data-table" data-testid="full-table">
            <thead>
              <tr>
                <th scope="col">{header}</th>
                {ds.columns.map((c) => {
                  const active = sort.field === c.field;
                  return (
                    <th
                      key={c.field}
                      scope="col"
                      class="num"
                      aria-sort={active ? (sort.desc ? 'descending' : 'ascending') : undefined}
                    >
                      {c.sortable ? (
                        <button type="button" class="sort-button" onClick={() => toggleSort(c.field)}>
                          {c.label}
                          <SortIcon dir={active ? (sort.desc ? 'desc' : 'asc') : 'none'} />
                        </button>
                      ) : (
                        c.label
                      )}
                    </th>
                  );
                })}
              </tr>
            </thead>
            <tbody>
              {loaded.data === undefined ? (
                <tr>
                  <td colSpan={ds.columns.length + 1} class="empty">
                    Loading…
                  </td>
                </tr>
              ) : shown.length === 0 ? (
                <tr>
                  <td colSpan={ds.columns.length + 1} class="empty empty-table">
                    No records found for this period.
                  </td>
                </tr>
              ) : (
                shown.map((row) => {
                  const name = rowName(ds, row, view.filters);
                  const label = displayName(ds, name);
                  return (
                    <tr key={name}>
                      <th scope="row">
                        <div class="name-cell">
                        <button
                          type="button"
                          class="link-button"
                          onClick={() => applyFilter(rowFilter(ds, name, view.filters))}
                          title={`Filter by ${label}`}
                        >
                          <span class="visually-hidden">Filter by </span>
                          {label}
                        </button>
                        <ExternalLink ds={ds} name={name} />
                        </div>
                      </th>
                      {ds.columns.map((c) => (
                        <td key={c.field} class="num" data-field={c.field} data-value={String(row[c.field] ?? '')}>
                          {formatValue(c.format, row[c.field])}
                        </td>
                      ))}
                    </tr>
                  );
                })
              )}
            </tbody>
          </table>
        </div>
        <div class="pager">
          <div class="page-sizes" role="group" aria-label="Rows per page">
            <span aria-hidden="true">Rows</span>
            {PAGE_SIZES.map((n) => (
              <button
                key={n}
                type="button"
                class="button button-small"
                aria-pressed={n === size}
                disabled={Math.min(n, sorted.length) === Math.min(size, sorted.length)}
                onClick={() => {
                  setSize(n);
                  setPage(1);
                }}
              >
                {n}
              </button>
            ))}
          </div>
          <div class="page-nav">
            <button
              type="button"
              class="icon-button"
              aria-label="Previous page"
              disabled={page <= 1}
              onClick={() => setPage(page - 1)}
            >
              <ChevronLeftIcon />
            </button>
            <span aria-live="polite" data-testid="page-status">
              Page {page} of {pages}
            </span>
            <button type="button" class="icon-button" aria-label="Next page" disabled={page >= pages} onClick={() => setPage(page + 1)}>
              <ChevronRightIcon />
            </button>
          </div>
        </div>
      </section>
    </div>
  );
}
