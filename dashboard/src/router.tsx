// A very small History API router: the server answers every non-API path with index.html,
// so the dashboard uses real paths (/login, /settings/account, /example.com/pages).
import type { PartialAnchorHTMLAttributes, ComponentChildren, JSX, TargetedMouseEvent } from 'preact';
import { useEffect, useState } from 'preact/hooks';

export interface Location {
  path: string;
  search: URLSearchParams;
  /** path + query string, as it appears in the address bar */
  href: string;
}

const listeners = new Set<() => void>();

function read(): Location {
  const { pathname, search } = window.location;
  return { path: pathname, search: new URLSearchParams(search), href: pathname + search };
}

let current = read();

function notify(): void {
  current = read();
  for (const listener of listeners) listener();
}

window.addEventListener('popstate', notify);

export interface NavigateOptions {
  replace?: boolean;
  /** Filter, chart and period changes keep the reader where they are on the page. */
  keepScroll?: boolean;
}

export function navigate(to: string, options: NavigateOptions = {}): void {
  const url = new URL(to, window.location.href);
  const target = url.pathname + url.search;
  if (target === current.href && !options.replace) return;
  if (options.replace) window.history.replaceState(null, '', target);
  else window.history.pushState(null, '', target);
  notify();
  if (!options.keepScroll) window.scrollTo(0, 0);
}

/** Changes some query parameters of the current URL (null deletes) and navigates there. */
export function setQuery(changes: Record<string, string | null>, options: NavigateOptions = { keepScroll: true }): void {
  const search = new URLSearchParams(current.search);
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) search.delete(key);
    else search.set(key, value);
  }
  navigate(withQuery(current.path, search), options);
}

export function withQuery(path: string, search: URLSearchParams): string {
  const query = search.toString();
  return query ? `${path}?${query}` : path;
}

export function getLocation(): Location {
  return current;
}

export function useLocation(): Location {
  const [location, setLocation] = useState(current);
  useEffect(() => {
    const listener = (): void => setLocation(current);
    listeners.add(listener);
    listener();
    return () => {
      listeners.delete(listener);
    };
  }, []);
  return location;
}

type AnchorProps = Omit<PartialAnchorHTMLAttributes<HTMLAnchorElement>, 'href' | 'role'> & {
  href: string;
  keepScroll?: boolean;
  children?: ComponentChildren;
};

/** An ordinary link that navigates without a page load (modifier clicks still open new tabs). */
export function Link({ href, keepScroll, onClick, ...rest }: AnchorProps): JSX.Element {
  const handle = (event: TargetedMouseEvent<HTMLAnchorElement>): void => {
    if (typeof onClick === 'function') onClick(event);
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    if (rest.target && rest.target !== '_self') return;
    event.preventDefault();
    navigate(href, { keepScroll });
  };
  return <a href={href} onClick={handle} {...rest} />;
}
