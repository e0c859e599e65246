// The four headline numbers, each compared with the period just before. Choosing one makes
// it the chart's series.
import type { JSX } from 'preact';
import type { Summary } from '../api';
import { previousLabel } from '../dates';
import { formatPercent, STATS, type StatInfo } from '../format';
import { setQuery } from '../router';

interface Change {
  /** badge text, e.g. "+12%" */
  text: string;
  tone: 'up' | 'down' | 'flat';
  sentence: string;
}

function describeChange(stat: StatInfo, current: number, previous: number | undefined, period: string): Change {
  const since = previousLabel(period);
  if (previous === undefined) return { text: '–', tone: 'flat', sentence: 'No comparison available.' };
  const diff = current - previous;
  let text: string;
  if (stat.key === 'bounces') {
    // Bounce rate compares percentage points, and going up is bad news.
    const points = Math.round(diff * 1000) / 10;
    text = `${points > 0 ? '+' : ''}${points} pts`;
  } else {
    const pct = previous > 0 ? Math.round((diff / previous) * 100) : 0;
    text = `${pct > 0 ? '+' : ''}${pct}%`;
  }
  if (diff === 0 || (stat.key !== 'bounces' && previous === 0 && current === 0)) {
    return { text: stat.key === 'bounces' ? '0 pts' : '0%', tone: 'flat', sentence: `No change since ${since}.` };
  }
  // Growth from nothing has no percentage.
  if (stat.key !== 'bounces' && previous === 0) text = 'New';
  const amount = stat.key === 'bounces' ? formatPercent(Math.abs(diff)) : stat.format(Math.abs(diff));
  const good = stat.key === 'bounces' ? diff < 0 : diff > 0;
  return {
    text,
    tone: good ? 'up' : 'down',
    sentence: `${diff > 0 ? 'Increased' : 'Decreased'} by ${amount} since ${since}.`,
  };
}

export function StatBoxes({ summary, selected, period }: { summary: Summary | undefined; selected: StatInfo; period: string }): JSX.Element {
  return (
    <div class="stat-boxes" role="group" aria-label="Totals for this period; choose one to chart it">
      {STATS.map((stat) => {
        const current = summary ? summary.current[stat.field] : 0;
        const previous = summary?.previous?.[stat.field];
        const change = describeChange(stat, current, summary ? previous : undefined, period);
        const value = summary ? stat.format(current) : '…';
        const active = stat.key === selected.key;
        return (
          <button
            key={stat.key}
            type="button"
            class={`stat-box${active ? ' is-active' : ''}`}
            aria-pressed={active}
            aria-label={`${stat.label}: ${value}. ${change.sentence}`}
            data-stat={stat.key}
            data-value={summary ? String(current) : ''}
            onClick={() => setQuery({ 'chart[stat]': stat.key })}
          >
            <span class="stat-label">{stat.label}</span>
            <span class="stat-value">{value}</span>
            <span class={`badge badge-${change.tone}`} title={change.sentence}>
              {change.text}
            </span>
            <span class="stat-tip" aria-hidden="true">
              {change.sentence}
            </span>
          </button>
        );
      })}
    </div>
  );
}
