// Date presets, the query range they send to the API, and how chart dates read.
// Ranges are computed in the browser's local time and sent as RFC 3339 with its UTC offset.

export type Interval = 'minute' | 'hour' | 'day' | 'week' | 'month';

export const INTERVALS: { key: Interval; label: string }[] = [
  { key: 'minute', label: 'Minutes' },
  { key: 'hour', label: 'Hours' },
  { key: 'day', label: 'Days' },
  { key: 'week', label: 'Weeks' },
  { key: 'month', label: 'Months' },
];

export interface Preset {
  key: string;
  label: string;
  /** a visual divider follows this option */
  divider?: boolean;
}

export const PRESETS: Preset[] = [
  { key: 'today', label: 'Today' },
  { key: 'yesterday', label: 'Yesterday', divider: true },
  { key: '12h', label: 'Previous 12 hours' },
  { key: '24h', label: 'Previous 24 hours' },
  { key: '72h', label: 'Previous 72 hours', divider: true },
  { key: '7d', label: 'Previous 7 days' },
  { key: '14d', label: 'Previous 14 days' },
  { key: '30d', label: 'Previous 30 days', divider: true },
  { key: 'quarter', label: 'Previous quarter' },
  { key: 'half', label: 'Previous half year' },
  { key: 'year', label: 'Previous year', divider: true },
  { key: 'all', label: 'All time', divider: true },
  { key: 'custom', label: 'Custom range…' },
];

export const EARLIEST = new Date(2024, 0, 1);

export interface Range {
  period: string;
  start: Date;
  end: Date;
  /** the interval the chart uses when the URL does not choose one */
  defaultInterval: Interval;
  /** short label for the picker trigger */
  label: string;
}

export class PeriodError extends Error {}

const HOUR = 3600_000;
const DAY = 24 * HOUR;

const startOfHour = (d: Date): Date => new Date(d.getFullYear(), d.getMonth(), d.getDate(), d.getHours());
const endOfHour = (d: Date): Date => new Date(startOfHour(d).getTime() + HOUR - 1);
const startOfDay = (d: Date): Date => new Date(d.getFullYear(), d.getMonth(), d.getDate());
const endOfDay = (d: Date): Date => new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1, 0, 0, 0, -1);
const addDays = (d: Date, days: number): Date => new Date(d.getFullYear(), d.getMonth(), d.getDate() + days, d.getHours());
const startOfWeek = (d: Date): Date => addDays(startOfDay(d), -d.getDay());
const endOfWeek = (d: Date): Date => endOfDay(addDays(startOfWeek(d), 6));
const startOfMonth = (d: Date, monthsBack = 0): Date => new Date(d.getFullYear(), d.getMonth() - monthsBack, 1);
const endOfMonth = (d: Date): Date => new Date(d.getFullYear(), d.getMonth() + 1, 1, 0, 0, 0, -1);

/** "2026-03-07" → local midnight of that day, or null. */
export function parseDay(text: string | null): Date | null {
  if (!text || !/^\d{4}-\d{2}-\d{2}$/.test(text)) return null;
  const [y, m, d] = text.split('-').map(Number);
  const date = new Date(y, m - 1, d);
  return date.getMonth() === m - 1 && date.getDate() === d ? date : null;
}

export function dayString(d: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** Local time as RFC 3339 with the browser's offset, to the second: 2026-11-22T00:00:00+01:00. */
export function rfc3339(d: Date): string {
  const pad = (n: number): string => String(Math.floor(Math.abs(n))).padStart(2, '0');
  const offset = -d.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  return (
    `${dayString(d)}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}` +
    `${sign}${pad(offset / 60)}:${pad(offset % 60)}`
  );
}

const shortDay = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', year: 'numeric' });

function customLabel(start: Date, end: Date): string {
  return `${shortDay.format(start)} – ${shortDay.format(end)}`;
}

function spanInterval(ms: number): Interval {
  if (ms <= 2 * DAY) return 'hour';
  if (ms <= 62 * DAY) return 'day';
  if (ms <= 190 * DAY) return 'week';
  return 'month';
}

/** Turns the URL's period (and custom start/end days) into a concrete range. */
export function resolveRange(search: URLSearchParams, now = new Date()): Range {
  const period = search.get('period') ?? 'today';
  const preset = PRESETS.find((p) => p.key === period);
  const make = (start: Date, end: Date, defaultInterval: Interval, label?: string): Range => ({
    period,
    start,
    end,
    defaultInterval,
    label: label ?? preset?.label ?? period,
  });
  const relative = /^(\d{1,4})([hd])$/.exec(period);
  if (relative) {
    const n = Number(relative[1]);
    if (n < 1) throw new PeriodError(`Invalid time period: ${period}`);
    const label = preset?.label ?? `Previous ${n} ${relative[2] === 'h' ? 'hours' : 'days'}`;
    if (relative[2] === 'h') return make(startOfHour(new Date(now.getTime() - n * HOUR)), endOfHour(now), 'hour', label);
    return make(startOfDay(addDays(now, -n)), endOfHour(now), 'day', label);
  }
  switch (period) {
    case 'today':
      return make(startOfDay(now), endOfDay(now), 'hour');
    case 'yesterday': {
      const day = addDays(now, -1);
      return make(startOfDay(day), endOfDay(day), 'hour');
    }
    case 'quarter': {
      const back = new Date(now.getFullYear(), now.getMonth() - 3, now.getDate());
      return make(startOfWeek(back), endOfWeek(now), 'week');
    }
    case 'half':
      return make(startOfMonth(now, 6), endOfMonth(now), 'month');
    case 'year':
      return make(startOfMonth(now, 12), endOfMonth(now), 'month');
    case 'all':
      return make(EARLIEST, endOfDay(now), 'month');
    case 'custom': {
      const start = parseDay(search.get('start'));
      const endDay = parseDay(search.get('end'));
      if (!start || !endDay) throw new PeriodError('A custom range needs a start and an end date (YYYY-MM-DD).');
      if (endDay < start) throw new PeriodError('The custom range ends before it starts.');
      // Unlike the original, the last picked day is included in full.
      const end = endOfDay(endDay);
      return make(start, end, spanInterval(end.getTime() - start.getTime()), customLabel(start, endDay));
    }
    default:
      throw new PeriodError(`Invalid time period: ${period}`);
  }
}

/** Intervals that give a readable number of points for this range (at most ~1500). */
export function allowedIntervals(range: Range): Interval[] {
  const span = range.end.getTime() - range.start.getTime();
  const result: Interval[] = [];
  if (span <= 25 * HOUR) result.push('minute');
  if (span <= 62 * DAY) result.push('hour');
  if (span >= DAY - 1000) result.push('day');
  if (span >= 7 * DAY - 1000) result.push('week');
  if (span >= 28 * DAY) result.push('month');
  if (!result.includes(range.defaultInterval)) result.push(range.defaultInterval);
  return INTERVALS.map((i) => i.key).filter((key) => result.includes(key));
}

export function chosenInterval(search: URLSearchParams, range: Range): Interval {
  const wanted = search.get('interval') as Interval | null;
  return wanted && allowedIntervals(range).includes(wanted) ? wanted : range.defaultInterval;
}

/** The API renders bucket starts as DuckDB TIMESTAMPTZ text: "2024-06-22 08:00:00+00". */
export function parseBucketDate(text: string): Date {
  let iso = text.trim().replace(' ', 'T');
  iso = iso.replace(/([+-]\d{2})$/, '$1:00').replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? new Date(text) : date;
}

function fmt(options: Intl.DateTimeFormatOptions): (d: Date) => string {
  const f = new Intl.DateTimeFormat(undefined, options);
  return (d) => f.format(d);
}

const formats = {
  time: fmt({ hour: '2-digit', minute: '2-digit' }),
  weekdayDay: fmt({ weekday: 'short', month: 'short', day: 'numeric' }),
  day: fmt({ month: 'short', day: 'numeric' }),
  month: fmt({ month: 'short', year: 'numeric' }),
  monthLongUtc: fmt({ month: 'long', year: 'numeric', timeZone: 'UTC' }),
  hourHeading: fmt({ month: 'short', day: 'numeric', year: 'numeric', hour: 'numeric', minute: '2-digit' }),
  fullDay: fmt({ weekday: 'long', month: 'long', day: 'numeric', year: 'numeric' }),
  longDay: fmt({ month: 'long', day: 'numeric', year: 'numeric' }),
};

/** Axis tick text for a bucket, chosen from the interval. */
export function tickFormatter(interval: Interval, range: Range): (d: Date) => string {
  switch (interval) {
    case 'minute':
    case 'hour':
      // Over several days, midnight ticks name the day and the others the time.
      return range.end.getTime() - range.start.getTime() > 1.5 * DAY
        ? (d) => (d.getHours() === 0 && d.getMinutes() === 0 ? formats.day(d) : formats.time(d))
        : formats.time;
    case 'day':
      return range.end.getTime() - range.start.getTime() <= 8 * DAY ? formats.weekdayDay : formats.day;
    case 'week':
      return formats.day;
    case 'month':
      // The chart places month ticks at local month starts.
      return formats.month;
  }
}

/** The heading of the chart tooltip for a bucket. */
export function bucketHeading(interval: Interval, d: Date): string {
  switch (interval) {
    case 'minute':
    case 'hour':
      return formats.hourHeading(d);
    case 'day':
      return formats.fullDay(d);
    case 'week':
      return `Week of ${formats.longDay(d)}`;
    case 'month':
      // Month buckets start at a UTC month boundary on the server.
      return `Month of ${formats.monthLongUtc(d)}`;
  }
}

/** "since yesterday" reads better than "since previous period" for day-long views. */
export function previousLabel(period: string): string {
  return period === 'today' || period === '24h' ? 'yesterday' : 'the previous period';
}
