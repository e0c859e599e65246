// The stats page of one website: totals, chart, filters, then either the summary cards or
// the full table of one dataset (/:hostname/:dataset).
import type { JSX } from 'preact';
import { get, type Summary, type Website } from '../api';
import { ErrorPage, LinkGone } from '../components/layout';
import { CopyCode, trackerSnippet } from '../components/ui';
import { useData, useTitle } from '../data';
import { PeriodError } from '../dates';
import { useRole } from '../role';
import { navigate, useLocation } from '../router';
import { TimeChart } from './chart';
import { ChartTypeToggle, DateRangePicker, IntervalPicker } from './controls';
import { dataset } from './datasets';
import { ExportControl } from './export';
import { FilterBar } from './filter-bar';
import { FullTable } from './full-table';
import { StatBoxes } from './stat-boxes';
import { SummaryCards } from './summary-cards';
import { readView, type StatsView, summaryUrl } from './view';

function SiteSwitcher({ hostname }: { hostname: string }): JSX.Element {
  const sites = useData('websites', (signal) => get<Website[]>('/websites', { signal }));
  const names = (sites.data ?? []).map((s) => s.hostname);
  if (!names.includes(hostname)) names.unshift(hostname);
  return (
    <label class="site-switcher">
      <span class="visually-hidden">Website</span>
      <span class="site-switcher-size" aria-hidden="true">
        {hostname}
      </span>
      <select class="select select-title" value={hostname} onChange={(e) => navigate(`/${e.currentTarget.value}`)}>
        {names.map((n) => (
          <option key={n} value={n}>
            {n}
          </option>
        ))}
      </select>
    </label>
  );
}

function NoVisits({ view }: { view: StatsView }): JSX.Element {
  return (
    <div class="callout" role="note">
      <strong>No visits recorded in this period.</strong>
      <p>
        If you have just added <code>{view.hostname}</code>, paste the tracker into the <code>&lt;head&gt;</code> of its
        pages. Visits appear here a few seconds later.
      </p>
      <CopyCode code={trackerSnippet()} label="tracker snippet" />
    </div>
  );
}

interface StatsProps {
  view: StatsView;
  datasetKey?: string;
  /** a share link's page: no website switcher, no tracker hints; a 404 means the link was revoked */
  shared?: boolean;
}

export function Stats({ view, datasetKey, shared }: StatsProps): JSX.Element {
  const url = summaryUrl(view);
  const role = useRole();
  const summary = useData(url, (signal) => get<Summary>(url, { signal }));
  if (summary.error && shared && summary.error.status === 404) return <LinkGone />;
  if (summary.error) return <ErrorPage status={summary.error.status} message={summary.error.message} />;

  const data = summary.data;
  const empty = data !== undefined && !summary.loading && data.current.pageviews === 0 && view.filters.length === 0;

  return (
    <div class="page-width stats-page">
      <div class="stats-head">
        <h1 class="visually-hidden">Dashboard of {view.hostname}</h1>
        {shared ? <p class="site-title">{view.hostname}</p> : <SiteSwitcher hostname={view.hostname} />}
        <div class="stats-controls">
          <DateRangePicker range={view.range} />
          {!shared && role === 'admin' && <ExportControl view={view} />}
        </div>
      </div>
      <StatBoxes summary={data} selected={view.stat} period={view.range.period} />
      <section class="card chart-card" aria-label="Chart">
        <div class="chart-toolbar">
          <FilterBar filters={view.filters} />
          <div class="chart-options">
            <IntervalPicker range={view.range} interval={view.interval} />
            <ChartTypeToggle type={view.chartType} />
          </div>
        </div>
        {data?.interval ? (
          <TimeChart buckets={data.interval} stat={view.stat} type={view.chartType} interval={view.interval} range={view.range} />
        ) : (
          <div class="chart-placeholder" aria-hidden="true" />
        )}
      </section>
      {empty && !shared && <NoVisits view={view} />}
      {datasetKey ? <FullTable view={view} ds={dataset(datasetKey)} /> : <SummaryCards view={view} />}
    </div>
  );
}

export function StatsPage({ hostname, dataset: datasetKey }: { hostname: string; dataset?: string }): JSX.Element {
  useTitle('Dashboard | Medama');
  const { search } = useLocation();
  const view = readView(hostname, search);
  if (view instanceof PeriodError) return <ErrorPage status={400} message={view.message} />;
  return <Stats view={view} datasetKey={datasetKey} />;
}
