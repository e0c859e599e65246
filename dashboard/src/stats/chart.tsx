// The time chart: uPlot draws one series (the chosen stat) as an area or as bars. A hidden
// caption and an optional data table give screen-reader and keyboard users the same numbers.
import type { JSX } from 'preact';
import { useEffect, useMemo, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Bucket } from '../api';
import { bucketHeading, type Interval, parseBucketDate, type Range, tickFormatter } from '../dates';
import { formatDuration, formatPercent, type StatInfo } from '../format';

const LINE = '#3d63dd';
const FILL_TOP = 'rgba(61, 99, 221, 0.28)';
const FILL_BOTTOM = 'rgba(61, 99, 221, 0.02)';
const BAR = 'rgba(61, 99, 221, 0.78)';
const AXIS = '#6b7385';
const GRID = '#eceef3';

interface ChartProps {
  buckets: Bucket[];
  stat: StatInfo;
  type: 'area' | 'bar';
  interval: Interval;
  range: Range;
}

/** Axis durations drop zero parts: 60000 → "1m", 90000 → "1m 30s". */
function axisDuration(ms: number): string {
  if (ms <= 0) return '0';
  if (ms < 1000) return formatDuration(ms);
  const total = Math.round(ms / 1000);
  const parts: [number, string][] = [
    [Math.floor(total / 3600), 'h'],
    [Math.floor((total % 3600) / 60), 'm'],
    [total % 60, 's'],
  ];
  return parts
    .filter(([n]) => n > 0)
    .map(([n, unit]) => `${n}${unit}`)
    .join(' ');
}

function axisValue(stat: StatInfo, value: number): string {
  if (stat.key === 'duration') return axisDuration(value);
  if (stat.key === 'bounces') return formatPercent(value);
  return stat.format(value);
}

/** Tick steps that never produce fractional visitors or odd durations. */
function yIncrements(stat: StatInfo): number[] {
  if (stat.key === 'bounces') return [0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1];
  if (stat.key === 'duration') {
    return [1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000];
  }
  const steps: number[] = [];
  for (let mag = 1; mag <= 1e9; mag *= 10) steps.push(mag, 2 * mag, 5 * mag);
  return steps;
}

const MIN = 60;
const HR = 3600;
const DY = 86400;

/** x tick steps that land on bucket starts, so a label never repeats within one bucket. */
function xIncrements(interval: Interval): number[] {
  const days = [DY, 2 * DY, 3 * DY, 7 * DY, 14 * DY];
  // uPlot treats multiples of 30 days as calendar months.
  const months = [30 * DY, 60 * DY, 90 * DY, 180 * DY, 365 * DY];
  switch (interval) {
    case 'minute':
      return [MIN, 5 * MIN, 10 * MIN, 15 * MIN, 30 * MIN, HR, 2 * HR, 3 * HR, 6 * HR, 12 * HR, ...days];
    case 'hour':
      return [HR, 2 * HR, 3 * HR, 4 * HR, 6 * HR, 12 * HR, ...days, ...months];
    case 'day':
      return [...days, ...months];
    case 'week':
      return [7 * DY, 14 * DY, 28 * DY, 56 * DY, ...months];
    case 'month':
      return months;
  }
}

function tooltipPlugin(stat: StatInfo, interval: Interval): uPlot.Plugin {
  let tip: HTMLDivElement;
  return {
    hooks: {
      init: (u) => {
        tip = document.createElement('div');
        tip.className = 'chart-tip';
        tip.setAttribute('aria-hidden', 'true');
        tip.style.display = 'none';
        u.over.appendChild(tip);
        u.over.addEventListener('mouseleave', () => {
          tip.style.display = 'none';
        });
      },
      setCursor: (u) => {
        const idx = u.cursor.idx;
        if (idx === null || idx === undefined) {
          tip.style.display = 'none';
          return;
        }
        const x = u.data[0][idx];
        const y = u.data[1][idx] ?? 0;
        tip.replaceChildren();
        const head = document.createElement('div');
        head.className = 'chart-tip-head';
        head.textContent = bucketHeading(interval, new Date(x * 1000));
        const line = document.createElement('div');
        line.className = 'chart-tip-line';
        const swatch = document.createElement('span');
        swatch.className = 'chart-tip-swatch';
        const label = document.createElement('span');
        label.textContent = stat.label;
        const value = document.createElement('strong');
        value.textContent = stat.format(y);
        line.append(swatch, label, value);
        tip.append(head, line);
        tip.style.display = 'block';
        const left = u.valToPos(x, 'x');
        const width = u.over.clientWidth;
        tip.style.left = `${Math.min(Math.max(left - tip.offsetWidth / 2, 0), width - tip.offsetWidth)}px`;
        tip.style.top = `${Math.max(u.valToPos(y, 'y') - tip.offsetHeight - 14, 0)}px`;
      },
    },
  };
}

function options(props: ChartProps, width: number, height: number): uPlot.Options {
  const { stat, type, interval, range } = props;
  const ticks = tickFormatter(interval, range);
  const bars = uPlot.paths.bars?.({ size: [0.7, 48], radius: 0.15, gap: 1 });
  const spline = uPlot.paths.spline?.();
  return {
    width,
    height,
    padding: [12, 28, 0, 4],
    legend: { show: false },
    cursor: {
      drag: { x: false, y: false, setScale: false },
      points: { size: 9, width: 2, fill: '#fff', stroke: LINE },
      y: false,
    },
    scales: {
      // Half a bucket of room on each side keeps edge bars and labels whole.
      x: {
        time: true,
        range: (u, min, max) => {
          const xs = u.data[0];
          const step = xs.length > 1 ? (xs[1] - xs[0]) / 2 : 1800;
          return [min - step, max + step];
        },
      },
      y: {
        range: (_u, _min, max) => {
          const top = max > 0 ? max : stat.key === 'bounces' ? 1 : stat.key === 'duration' ? 60_000 : 4;
          return uPlot.rangeNum(0, top, 0.1, true);
        },
      },
    },
    axes: [
      {
        stroke: AXIS,
        font: '12px system-ui, sans-serif',
        grid: { show: false },
        ticks: { show: false },
        incrs: xIncrements(interval),
        space: Math.max(56, ticks(range.start).length * 7 + 16),
        values: (_u, splits) => splits.map((s) => ticks(new Date(s * 1000))),
      },
      {
        stroke: AXIS,
        font: '12px system-ui, sans-serif',
        grid: { stroke: GRID, width: 1 },
        ticks: { show: false },
        incrs: yIncrements(stat),
        size: 56,
        values: (_u, splits) => splits.map((s) => axisValue(stat, s)),
      },
    ],
    series: [
      {},
      {
        label: stat.label,
        stroke: type === 'bar' ? BAR : LINE,
        width: type === 'bar' ? 0 : 2,
        fill:
          type === 'bar'
            ? BAR
            : (u) => {
                const gradient = u.ctx.createLinearGradient(0, u.bbox.top, 0, u.bbox.top + u.bbox.height);
                gradient.addColorStop(0, FILL_TOP);
                gradient.addColorStop(1, FILL_BOTTOM);
                return gradient;
              },
        paths: type === 'bar' ? bars : spline,
        points: { show: false },
      },
    ],
    plugins: [tooltipPlugin(stat, interval)],
  };
}

export function TimeChart(props: ChartProps): JSX.Element {
  const host = useRef<HTMLDivElement>(null);
  const { buckets, stat, type, interval, range } = props;

  const data = useMemo<uPlot.AlignedData>(
    () => [
      buckets.map((b) => parseBucketDate(b.date).getTime() / 1000),
      buckets.map((b) => b[stat.field] ?? 0),
    ],
    [buckets, stat],
  );

  useEffect(() => {
    const el = host.current;
    if (!el) return undefined;
    const height = (): number => (window.innerWidth < 600 ? 220 : 300);
    const plot = new uPlot(options(props, el.clientWidth || 600, height()), data, el);
    const observer = new ResizeObserver(() => {
      plot.setSize({ width: el.clientWidth, height: height() });
    });
    observer.observe(el);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [data, type, interval, range.start.getTime(), range.end.getTime()]);

  const values = data[1] as number[];
  const total = values.length;
  const peakIdx = values.reduce((best, v, i) => (v > values[best] ? i : best), 0);
  const caption = total
    ? `${stat.label} by ${interval}, ${total} points. Highest: ${stat.format(values[peakIdx] ?? 0)} in ${bucketHeading(interval, new Date((data[0][peakIdx] as number) * 1000))}.`
    : `No ${stat.label.toLowerCase()} data for this period.`;

  return (
    <figure class="chart" aria-label={`${stat.label} over time`}>
      <div ref={host} class="chart-canvas" role="img" aria-label={caption} data-testid="chart" data-points={total} />
      <details class="chart-data">
        <summary>Show the chart data as a table</summary>
        <div class="table-scroll">
          <table class="data-table">
            <caption class="visually-hidden">{caption}</caption>
            <thead>
              <tr>
                <th scope="col">Period</th>
                <th scope="col" class="num">
                  {stat.label}
                </th>
              </tr>
            </thead>
            <tbody>
              {buckets.map((b, i) => (
                <tr key={b.date}>
                  <td>{bucketHeading(interval, new Date((data[0][i] as number) * 1000))}</td>
                  <td class="num">{stat.format(values[i] ?? 0)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
