// The twelve breakdowns of the stats page: which endpoint, which field names a row, which
// filter a click on a row adds, and which columns the full table shows.
import type { Row } from '../api';
import type { Filter } from '../filters';
import { hasEq } from '../filters';
import { formatCount, formatDuration, formatPercent } from '../format';

export type ColumnFormat = 'count' | 'percent' | 'duration';

export interface Column {
  field: string;
  label: string;
  format: ColumnFormat;
  sortable: boolean;
}

export interface Dataset {
  key: string;
  /** tab and table title */
  label: string;
  /** label in the dataset navigation of the table view */
  navLabel: string;
  /** the JSON field that names a row */
  field: string;
  /** what an empty name means */
  emptyLabel: string;
  /** the header of the name column */
  nameHeader: string;
  /** the number a summary card shows, and its bar */
  metric: string;
  metricPercent: string;
  /** endpoints that take `summary=true|false` (devices and properties do not) */
  summaryFlag: boolean;
  columns: Column[];
}

const col = (field: string, label: string, format: ColumnFormat, sortable = true): Column => ({
  field,
  label,
  format,
  sortable,
});

const dimensionColumns = [
  col('visitors', 'Visitors', 'count'),
  col('visitors_percentage', 'Visitors %', 'percent'),
  col('bounce_percentage', 'Bounce rate', 'percent'),
  col('duration', 'Time spent', 'duration'),
];

function dimension(key: string, label: string, navLabel: string, field: string, header: string, empty: string): Dataset {
  return {
    key,
    label,
    navLabel,
    field,
    emptyLabel: empty,
    nameHeader: header,
    metric: 'visitors',
    metricPercent: 'visitors_percentage',
    summaryFlag: key !== 'devices',
    columns: dimensionColumns,
  };
}

export const DATASETS: Dataset[] = [
  {
    key: 'pages',
    label: 'Pages',
    navLabel: 'Pages',
    field: 'path',
    emptyLabel: '(no path)',
    nameHeader: 'Path',
    metric: 'visitors',
    metricPercent: 'visitors_percentage',
    summaryFlag: true,
    columns: [
      col('visitors', 'Visitors', 'count'),
      col('visitors_percentage', 'Visitors %', 'percent'),
      col('pageviews', 'Views', 'count'),
      col('pageviews_percentage', 'Views %', 'percent'),
      col('bounce_percentage', 'Bounce rate', 'percent'),
      col('duration', 'Time spent', 'duration'),
    ],
  },
  {
    key: 'time',
    label: 'Time',
    navLabel: 'Time spent',
    field: 'path',
    emptyLabel: '(no path)',
    nameHeader: 'Path',
    metric: 'duration',
    metricPercent: 'duration_percentage',
    summaryFlag: true,
    columns: [
      col('visitors', 'Visitors', 'count'),
      col('duration', 'Median time', 'duration'),
      col('duration_lower_quartile', 'Q1 (25%)', 'duration'),
      col('duration_upper_quartile', 'Q3 (75%)', 'duration'),
      col('duration_percentage', 'Share of time', 'percent'),
    ],
  },
  dimension('referrers', 'Referrers', 'Referrers', 'referrer', 'Referrer', 'Direct / None'),
  dimension('sources', 'Sources', 'UTM sources', 'source', 'Source', 'Direct / None'),
  dimension('mediums', 'Mediums', 'UTM mediums', 'medium', 'Medium', 'Direct / None'),
  dimension('campaigns', 'Campaigns', 'UTM campaigns', 'campaign', 'Campaign', 'Direct / None'),
  dimension('browsers', 'Browsers', 'Browsers', 'browser', 'Browser', 'Unknown'),
  dimension('os', 'OS', 'Operating systems', 'os', 'Operating system', 'Unknown'),
  dimension('devices', 'Devices', 'Devices', 'device', 'Device', 'Unknown'),
  dimension('countries', 'Countries', 'Countries', 'country', 'Country', 'Unknown'),
  dimension('languages', 'Languages', 'Languages', 'language', 'Language', 'Unknown'),
  {
    key: 'properties',
    label: 'Properties',
    navLabel: 'Properties',
    field: 'name',
    emptyLabel: '(empty)',
    nameHeader: 'Property',
    metric: 'events',
    metricPercent: 'events_percentage',
    summaryFlag: false,
    columns: [col('events', 'Events', 'count'), col('events_percentage', 'Events %', 'percent')],
  },
];

export function dataset(key: string): Dataset {
  return DATASETS.find((d) => d.key === key) ?? DATASETS[0];
}

/** Summary cards group related datasets as tabs. */
export const CARDS: { title: string; tabs: string[]; wide?: boolean }[] = [
  { title: 'Pages', tabs: ['pages', 'time'] },
  { title: 'Sources', tabs: ['referrers', 'sources', 'mediums', 'campaigns'] },
  { title: 'Technology', tabs: ['browsers', 'os', 'devices'] },
  { title: 'Location', tabs: ['countries', 'languages'] },
  { title: 'Properties', tabs: ['properties'], wide: true },
];

export function formatValue(format: ColumnFormat, value: unknown): string {
  const n = typeof value === 'number' ? value : 0;
  if (format === 'percent') return formatPercent(n);
  if (format === 'duration') return formatDuration(n);
  return formatCount(n);
}

/** The raw name of a row ("" for direct traffic), as a filter value. */
export function rowName(ds: Dataset, row: Row, filters: Filter[]): string {
  if (ds.key === 'properties') {
    const value = hasEq(filters, 'prop_name') ? row.value : row.name;
    return typeof value === 'string' ? value : '';
  }
  const value = row[ds.field];
  return typeof value === 'string' ? value : value == null ? '' : String(value);
}

export function displayName(ds: Dataset, name: string): string {
  return name === '' ? ds.emptyLabel : name;
}

/** The filter a click on a row adds. */
export function rowFilter(ds: Dataset, name: string, filters: Filter[]): Filter {
  const keys: Record<string, string> = {
    pages: 'path',
    time: 'path',
    referrers: 'referrer',
    sources: 'utm_source',
    mediums: 'utm_medium',
    campaigns: 'utm_campaign',
    browsers: 'browser',
    os: 'os',
    devices: 'device',
    countries: 'country',
    languages: 'language',
  };
  if (ds.key === 'properties') return { dim: hasEq(filters, 'prop_name') ? 'prop_value' : 'prop_name', op: 'eq', value: name };
  return { dim: keys[ds.key], op: 'eq', value: name };
}

/** A referrer worth linking to: it looks like a host name (groups like "Google" do not). */
export function isDomain(name: string): boolean {
  return /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(name);
}
