// Usage: CPU, memory and disk of the host, then the server process and its analytics database, refreshed
// every 2.5 seconds while shown.
import type { JSX } from 'preact';
import { useEffect } from 'preact/hooks';
import { get, type Usage } from '../api';
import { ErrorPage } from '../components/layout';
import { Card, Loader } from '../components/ui';
import { useData } from '../data';
import { formatBytes } from '../format';

function Meter({ label, fraction }: { label: string; fraction: number }): JSX.Element {
  const pct = Math.max(0, Math.min(1, fraction)) * 100;
  return (
    <div class="meter">
      <div class="meter-value">{pct.toFixed(2)}%</div>
      <div
        class="meter-track"
        role="meter"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(pct)}
        aria-valuetext={`${pct.toFixed(1)}%`}
      >
        <div class="meter-fill" style={{ width: `${pct}%` }} />
      </div>
    </div>
  );
}

/** The oldest page view still stored (retention deletes older ones: Settings -> Data). */
function oldest(iso: string | null | undefined): string {
  if (!iso) return 'None yet';
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? iso : at.toLocaleDateString(undefined, { year: 'numeric', month: 'long', day: 'numeric' });
}

/** Slow flushes of the hit journal since start, out of all of them, with the slowest. */
function slowFlushes(slow: number, all: number, slowestMs: number): string {
  const share = `${slow.toLocaleString()} of ${all.toLocaleString()}`;
  return all ? `${share} (slowest ${slowestMs.toLocaleString()} ms)` : share;
}

export function UsageSettings(): JSX.Element {
  const usage = useData('usage', (signal) => get<Usage>('/user/usage', { signal }));
  useEffect(() => {
    const timer = window.setInterval(usage.reload, 2500);
    return () => window.clearInterval(timer);
  }, []);

  if (usage.error) return <ErrorPage status={usage.error.status} message={usage.error.message} />;
  if (!usage.data) return <Loader />;
  const { cpu, memory, disk, process, analytics } = usage.data;
  return (
    <div class="usage-grid">
      <Card title="CPU" description="Busy time of all cores since the last reading.">
        <Meter label="CPU usage" fraction={cpu.usage / 100} />
        <dl class="facts">
          <dt>Cores</dt>
          <dd>{cpu.cores}</dd>
          <dt>Threads</dt>
          <dd>{cpu.threads}</dd>
        </dl>
      </Card>
      <Card title="Memory" description="Memory in use on the server.">
        <Meter label="Memory usage" fraction={memory.total ? memory.used / memory.total : 0} />
        <dl class="facts">
          <dt>Used</dt>
          <dd>{formatBytes(memory.used)}</dd>
          <dt>Capacity</dt>
          <dd>{formatBytes(memory.total)}</dd>
        </dl>
      </Card>
      <Card title="Disk" description="The disk that holds the databases.">
        <Meter label="Disk usage" fraction={disk.total ? disk.used / disk.total : 0} />
        <dl class="facts">
          <dt>Used</dt>
          <dd>{formatBytes(disk.used)}</dd>
          <dt>Capacity</dt>
          <dd>{formatBytes(disk.total)}</dd>
        </dl>
      </Card>
      <Card
        title="Server"
        description="The server process, and the analytics database's memory against its limit (-memorylimit)."
      >
        <Meter
          label="Analytics database memory"
          fraction={analytics.memoryLimit ? analytics.memoryUsed / analytics.memoryLimit : 0}
        />
        <dl class="facts">
          <dt>Process memory (RSS)</dt>
          <dd>{formatBytes(process.rss)}</dd>
          <dt>Database memory</dt>
          <dd>
            {formatBytes(analytics.memoryUsed)} of {formatBytes(analytics.memoryLimit)}
          </dd>
          <dt>Write-ahead log</dt>
          <dd>{formatBytes(analytics.wal)}</dd>
          <dt>Hits refused while busy</dt>
          <dd>{analytics.refusedHits}</dd>
          <dt>Slow disk flushes (over 250 ms)</dt>
          <dd title="Each hit is answered once the hit journal is flushed to disk; a slow flush is a slow answer.">
            {slowFlushes(analytics.slowJournalFlushes, analytics.journalFlushes, analytics.slowestJournalFlushMs)}
          </dd>
          <dt>Oldest page view kept</dt>
          <dd>{oldest(analytics.oldestPageView)}</dd>
        </dl>
      </Card>
    </div>
  );
}
