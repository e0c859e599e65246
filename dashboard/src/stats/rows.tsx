// Pieces shared by the summary cards and the full tables: a clickable name, the referrer
// link, and the grouped/dialect switches.
import type { JSX } from 'preact';
import { ExternalIcon } from '../components/icons';
import { setQuery } from '../router';
import { type Dataset, isDomain } from './datasets';
import type { StatsView } from './view';

export function ExternalLink({ ds, name }: { ds: Dataset; name: string }): JSX.Element | null {
  if (ds.key !== 'referrers' || !isDomain(name)) return null;
  return (
    <a
      class="external-link"
      href={`https://${name}`}
      target="_blank"
      rel="noopener noreferrer"
      aria-label={`Open ${name} in a new tab`}
      title={`Open ${name}`}
    >
      <ExternalIcon />
    </a>
  );
}

/** Referrers by source group or by host; languages by base language or by dialect. */
export function DatasetSwitch({ ds, view }: { ds: Dataset; view: StatsView }): JSX.Element | null {
  if (ds.key === 'referrers') {
    return (
      <label class="switch">
        <input
          type="checkbox"
          checked={view.grouped}
          onChange={(e) => setQuery({ grouped: e.currentTarget.checked ? 'true' : 'false' })}
        />
        <span>Group by source</span>
      </label>
    );
  }
  if (ds.key === 'languages') {
    return (
      <label class="switch">
        <input
          type="checkbox"
          checked={view.locale}
          onChange={(e) => setQuery({ locale: e.currentTarget.checked ? 'true' : 'false' })}
        />
        <span>Show dialects</span>
      </label>
    );
  }
  return null;
}
