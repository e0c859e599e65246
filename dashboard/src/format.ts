// Number formatting shared by stat boxes, the chart and every table.

const compact = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 2 });
const whole = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const percent = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 1 });

/** 1234 → "1.23K"; small numbers stay exact. */
export function formatCount(value: number | null | undefined): string {
  return compact.format(value ?? 0);
}

export function formatWhole(value: number | null | undefined): string {
  return whole.format(value ?? 0);
}

/** A 0..1 fraction as a percentage: 0.4213 → "42.1%". */
export function formatPercent(fraction: number | null | undefined): string {
  return percent.format(fraction ?? 0);
}

/** Milliseconds as "1h 4m 10s", "4m 10s", "10s" or "0.4s"; under 50 ms means "no data". */
export function formatDuration(ms: number | null | undefined): string {
  if (!ms || ms < 50) return 'N/A';
  if (ms < 1000) return `${(ms / 1000).toFixed(1)}s`;
  const total = Math.round(ms / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours) return `${hours}h ${minutes}m ${seconds}s`;
  if (minutes) return `${minutes}m ${seconds}s`;
  return `${seconds}s`;
}

const BYTE_UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < BYTE_UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(value < 10 && unit > 0 ? 1 : 0)} ${BYTE_UNITS[unit]}`;
}

export type StatKey = 'visitors' | 'pageviews' | 'duration' | 'bounces';

export interface StatInfo {
  key: StatKey;
  label: string;
  /** field of the summary objects */
  field: 'visitors' | 'pageviews' | 'duration' | 'bounce_percentage';
  format: (value: number) => string;
}

export const STATS: StatInfo[] = [
  { key: 'visitors', label: 'Visitors', field: 'visitors', format: formatCount },
  { key: 'pageviews', label: 'Page Views', field: 'pageviews', format: formatCount },
  { key: 'duration', label: 'Time Spent', field: 'duration', format: formatDuration },
  { key: 'bounces', label: 'Bounce Rate', field: 'bounce_percentage', format: formatPercent },
];

export function statInfo(key: string | null): StatInfo {
  return STATS.find((stat) => stat.key === key) ?? STATS[0];
}
