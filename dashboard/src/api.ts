// The only way the dashboard talks to the server: same-origin JSON calls under /api.
import type { components } from './api-types';
import { clearLoggedIn } from './auth';
import { getLocation, navigate } from './router';
import { shareToken } from './share';

export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** Thrown after a 401 once the app has already moved to the login page. */
export class Redirected extends ApiError {}

export interface CallOptions {
  body?: unknown;
  signal?: AbortSignal;
  /** Let the caller handle 401 (the login page does) instead of redirecting. */
  allow401?: boolean;
}

const VERSION_KEY = 'medama-version';

/** A new server build means new assets: reload once so the page matches the API. */
function checkVersion(response: Response): void {
  const commit = response.headers.get('X-API-Commit');
  if (!commit) return;
  try {
    const seen = window.localStorage.getItem(VERSION_KEY);
    window.localStorage.setItem(VERSION_KEY, commit);
    if (seen !== null && seen !== commit) window.location.reload();
  } catch {
    // No storage, no reload check.
  }
}

export function loginPath(): string {
  const { path, href } = getLocation();
  if (path === '/' || path === '/login' || path === '/logout') return '/login';
  return `/login?redirect=${encodeURIComponent(href)}`;
}

async function errorMessage(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { error?: { message?: string } };
    if (body.error?.message) return body.error.message;
  } catch {
    // Not JSON: fall back to the status text.
  }
  return response.statusText || `HTTP ${response.status}`;
}

export async function call<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json' };
  const token = shareToken();
  if (token) headers['X-Share-Token'] = token; // a shared page reads its one website with it
  const response = await fetch(`/api${path}`, {
    method,
    credentials: 'same-origin',
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: options.signal,
  });
  checkVersion(response);
  if (response.status === 401 && !options.allow401 && !token) {
    clearLoggedIn();
    navigate(loginPath(), { replace: true });
    throw new Redirected(401, await errorMessage(response));
  }
  if (!response.ok) throw new ApiError(response.status, await errorMessage(response));
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export const get = <T>(path: string, options?: CallOptions): Promise<T> => call<T>('GET', path, options);

// ---- response shapes: generated from openapi.yaml into api-types.ts (`make openapi`) ----

type Schemas = components['schemas'];
export type User = Schemas['UserGet'];
export type Website = Schemas['WebsiteGet'];
export type TenantSettings = Schemas['TenantSettingsGet'];
export type Usage = Schemas['UserUsageGet'];
export type Retention = Schemas['Retention'];
export type Totals = Schemas['StatsSummaryMetrics'];
export type Bucket = Schemas['StatsIntervalItem'];
export type Summary = Schemas['StatsSummary'];
export type Account = Schemas['AccountGet'];
export type ShareLink = Schemas['ShareLinkGet'];
export type ShareAccess = Schemas['ShareAccess'];
export type Role = Account['role'];

/** One row of any list endpoint; which keys exist depends on the dataset. */
export type Row = Record<string, string | number | null | undefined>;

// ---- the Umami-compatible API (docs/umami.md), read with the same session cookie ----

export interface UmamiWebsite {
  id: string;
  domain: string;
}

/** The UUID by which Umami-style snippets and clients name `hostname`, or undefined if the server has none. */
export async function websiteUuid(hostname: string, signal?: AbortSignal): Promise<string | undefined> {
  const query = new URLSearchParams({ search: hostname, pageSize: '100' });
  const response = await fetch(`/umami/api/websites?${query.toString()}`, { credentials: 'same-origin', signal });
  if (!response.ok) throw new ApiError(response.status, await errorMessage(response));
  const page = (await response.json()) as { data: UmamiWebsite[] };
  return page.data.find((site) => site.domain === hostname)?.id;
}
