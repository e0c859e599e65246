// Export: the raw page views or custom events of the period on screen, downloaded as a file
// (docs/data.md#export). Admins only: the endpoint answers 403 to viewers.
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import type { StatsView } from './view';

const FORMATS = [
  { key: 'csv', label: 'CSV' },
  { key: 'parquet', label: 'Parquet' },
  { key: 'ndjson', label: 'NDJSON' },
];

const TABLES = [
  { key: 'views', label: 'Page views' },
  { key: 'events', label: 'Events' },
];

/** The export URL for the same start/end the stats requests use; filters do not apply to raw rows. */
export function exportUrl(view: StatsView, format: string, table: string): string {
  const q = new URLSearchParams({ format, table });
  for (const key of ['start', 'end']) {
    const value = view.query.get(key);
    if (value) q.set(key, value);
  }
  return `/api/website/${encodeURIComponent(view.hostname)}/export?${q.toString()}`;
}

export function ExportControl({ view }: { view: StatsView }): JSX.Element {
  const [format, setFormat] = useState('csv');
  const [table, setTable] = useState('views');
  return (
    <div class="control export-control">
      <label for="export-format" class="control-label">
        Export
      </label>
      <div class="control-row">
        <select id="export-format" class="select" value={format} onChange={(e) => setFormat(e.currentTarget.value)}>
          {FORMATS.map((f) => (
            <option key={f.key} value={f.key}>
              {f.label}
            </option>
          ))}
        </select>
        <select
          aria-label="Export rows"
          class="select"
          value={table}
          onChange={(e) => setTable(e.currentTarget.value)}
        >
          {TABLES.map((t) => (
            <option key={t.key} value={t.key}>
              {t.label}
            </option>
          ))}
        </select>
        <a
          class="button button-small"
          href={exportUrl(view, format, table)}
          download
          title={`Download the raw ${table === 'views' ? 'page views' : 'events'} of ${view.range.label}`}
        >
          Download
        </a>
      </div>
    </div>
  );
}
