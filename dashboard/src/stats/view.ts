// Everything the stats page shows is derived from its URL, so any view can be bookmarked.
import { chosenInterval, type Interval, PeriodError, type Range, resolveRange, rfc3339 } from '../dates';
import { type Filter, hasEq, paramName, readFilters } from '../filters';
import { statInfo, type StatInfo } from '../format';
import type { Dataset } from './datasets';

export interface StatsView {
  hostname: string;
  /** where this website's stats pages live: /<hostname>, or /share/<slug> on a shared page */
  base: string;
  range: Range;
  interval: Interval;
  stat: StatInfo;
  chartType: 'area' | 'bar';
  filters: Filter[];
  /** referrers grouped by source (Google, Facebook…) or by host */
  grouped: boolean;
  /** languages by dialect ("British English") instead of base language */
  locale: boolean;
  /** start, end and every filter, exactly as the API takes them */
  query: URLSearchParams;
}

export function readView(hostname: string, search: URLSearchParams, base = `/${hostname}`): StatsView | PeriodError {
  let range: Range;
  try {
    range = resolveRange(search);
  } catch (err) {
    if (err instanceof PeriodError) return err;
    throw err;
  }
  const filters = readFilters(search);
  const query = new URLSearchParams();
  query.set('start', rfc3339(range.start));
  query.set('end', rfc3339(range.end));
  for (const f of filters) query.append(paramName(f), f.value);
  const groupedParam = search.get('grouped');
  const localeParam = search.get('locale');
  return {
    hostname,
    base,
    range,
    interval: chosenInterval(search, range),
    stat: statInfo(search.get('chart[stat]')),
    chartType: search.get('chart[type]') === 'bar' ? 'bar' : 'area',
    filters,
    grouped: groupedParam === null ? !hasEq(filters, 'referrer') : groupedParam !== 'false',
    locale: localeParam === null ? hasEq(filters, 'language') : localeParam === 'true',
    query,
  };
}

export function summaryUrl(view: StatsView): string {
  const q = new URLSearchParams(view.query);
  q.set('previous', 'true');
  q.set('interval', view.interval);
  return `/website/${encodeURIComponent(view.hostname)}/summary?${q.toString()}`;
}

/** The list endpoint URL for one dataset; `limit` for the summary cards, none for full tables. */
export function listUrl(view: StatsView, ds: Dataset, options: { summary: boolean; limit?: number; query?: URLSearchParams }): string {
  const q = new URLSearchParams(options.query ?? view.query);
  if (ds.summaryFlag) q.set('summary', String(options.summary));
  if (ds.key === 'referrers') q.set('grouped', String(view.grouped));
  if (ds.key === 'languages') q.set('locale', String(view.locale));
  if (options.limit) q.set('limit', String(options.limit));
  return `/website/${encodeURIComponent(view.hostname)}/${ds.key}?${q.toString()}`;
}

/** The query without property filters: the property picker lists every property name. */
export function withoutPropertyFilters(view: StatsView): URLSearchParams {
  const q = new URLSearchParams();
  for (const [k, v] of view.query) if (!k.startsWith('prop_name[') && !k.startsWith('prop_value[')) q.append(k, v);
  return q;
}
