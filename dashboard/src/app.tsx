// Route table. Real paths: the server answers every non-API path with index.html.
import type { JSX } from 'preact';
import { useEffect } from 'preact/hooks';
import { ErrorPage, Layout, LinkGone } from './components/layout';
import { Toasts } from './components/ui';
import { DefaultPasswordPrompt, LoginPage, LogoutPage } from './pages/auth';
import { SharePage } from './pages/share';
import { WebsitesPage } from './pages/websites';
import { SettingsPage, SETTINGS_SECTIONS } from './settings/settings';
import { DATASETS } from './stats/datasets';
import { StatsPage } from './stats/stats-page';
import { navigate, useLocation } from './router';
import { isSharePath } from './share';

function Redirect({ to }: { to: string }): null {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

/** /share/<slug> and /share/<slug>/<dataset>: the stats page of a share link. */
function sharedRoute(slug: string | undefined, rest: string[]): JSX.Element {
  const [datasetKey, ...extra] = rest;
  if (!slug || extra.length || (datasetKey && !DATASETS.some((d) => d.key === datasetKey))) return <LinkGone />;
  return <SharePage key={slug} slug={slug} dataset={datasetKey} />;
}

function route(path: string): JSX.Element | null {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return <WebsitesPage />;
  const [first, second, ...rest] = parts;
  if (first === 'share') return sharedRoute(second, rest);
  if (rest.length) return <ErrorPage status={404} />;
  if (first === 'login' && !second) return <LoginPage />;
  if (first === 'logout' && !second) return <LogoutPage />;
  if (first === 'settings') {
    if (!second) return <Redirect to="/settings/account" />;
    return SETTINGS_SECTIONS.some((s) => s.key === second) ? <SettingsPage section={second} /> : <ErrorPage status={404} />;
  }
  if (!/^[A-Za-z0-9.-]{1,253}$/.test(first)) return <ErrorPage status={404} />;
  if (second && !DATASETS.some((d) => d.key === second)) return <ErrorPage status={404} />;
  return <StatsPage hostname={first} dataset={second} />;
}

export function App(): JSX.Element {
  const { path } = useLocation();
  return (
    <Layout>
      {route(path)}
      {!isSharePath(path) && <DefaultPasswordPrompt />}
      <Toasts />
    </Layout>
  );
}
