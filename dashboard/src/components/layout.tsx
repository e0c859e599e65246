// The frame around every page: skip link, top bar with navigation, the first-run password
// reminder, and the error page shown inside it.
import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { useDefaultPassword, useLoggedIn } from '../auth';
import { Link, useLocation } from '../router';
import { isSharePath } from '../share';
import { LogoMark, LogoutIcon, MenuIcon, CloseIcon } from './icons';

function NavLinks({ path, onNavigate }: { path: string; onNavigate?: () => void }): JSX.Element {
  const home = path === '/';
  const settings = path === '/settings' || path.startsWith('/settings/');
  return (
    <>
      <Link href="/" class="nav-link" aria-current={home ? 'page' : undefined} onClick={onNavigate}>
        Websites
      </Link>
      <Link href="/settings" class="nav-link" aria-current={settings ? 'page' : undefined} onClick={onNavigate}>
        Settings
      </Link>
    </>
  );
}

/** A shared page's top bar: the logo only, nothing that leads into the dashboard. */
function SharedHeader(): JSX.Element {
  return (
    <header class="topbar">
      <div class="topbar-inner">
        <span class="brand">
          <LogoMark />
          <span>Medama</span>
        </span>
      </div>
    </header>
  );
}

function Header(): JSX.Element {
  const loggedIn = useLoggedIn();
  const { path } = useLocation();
  const [open, setOpen] = useState(false);
  useEffect(() => setOpen(false), [path]);

  const account = loggedIn ? (
    <Link href="/logout" class="button button-quiet">
      <LogoutIcon />
      Log out
    </Link>
  ) : (
    <Link href="/login" class="button button-quiet">
      Log in
    </Link>
  );

  return (
    <header class="topbar">
      <div class="topbar-inner">
        <Link href="/" class="brand" aria-label="Medama home">
          <LogoMark />
          <span>Medama</span>
        </Link>
        {loggedIn && (
          <nav class="nav nav-wide" aria-label="Main">
            <NavLinks path={path} />
          </nav>
        )}
        <div class="topbar-account">{account}</div>
        <button
          type="button"
          class="icon-button burger"
          aria-label={open ? 'Close menu' : 'Open menu'}
          aria-expanded={open}
          aria-controls="mobile-menu"
          onClick={() => setOpen(!open)}
        >
          {open ? <CloseIcon size={22} /> : <MenuIcon />}
        </button>
      </div>
      {open && (
        <nav id="mobile-menu" class="mobile-menu" aria-label="Main">
          {loggedIn && <NavLinks path={path} onNavigate={() => setOpen(false)} />}
          {account}
        </nav>
      )}
    </header>
  );
}

function PasswordReminder(): JSX.Element | null {
  const loggedIn = useLoggedIn();
  const usesDefault = useDefaultPassword();
  const { path } = useLocation();
  if (!loggedIn || !usesDefault || path === '/settings/account') return null;
  return (
    <div class="reminder" role="note">
      <div class="page-width reminder-inner">
        <span>
          <strong>You are still using the default password.</strong> Anyone who knows Medama can log in.
        </span>
        <Link href="/settings/account" class="button button-small">
          Change password
        </Link>
      </div>
    </div>
  );
}

export function Layout({ children }: { children: ComponentChildren }): JSX.Element {
  const { path } = useLocation();
  const shared = isSharePath(path);
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      {shared ? <SharedHeader /> : <Header />}
      {!shared && <PasswordReminder />}
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}

/** A page heading row: the title on the left, actions on the right. */
export function PageHead({ title, children }: { title: ComponentChildren; children?: ComponentChildren }): JSX.Element {
  return (
    <div class="page-head">
      <h1>{title}</h1>
      {children && <div class="page-head-actions">{children}</div>}
    </div>
  );
}

const ERRORS: Record<number, { title: string; body: string }> = {
  400: { title: 'Your request is invalid.', body: 'Please check the address and the filters in it.' },
  403: { title: 'You are not allowed to access this page.', body: 'This server may be running in demo mode.' },
  404: { title: 'You have found a secret place.', body: 'There is nothing here. It may have been moved or deleted.' },
  409: {
    title: 'Conflict detected.',
    body: 'Did you try to create something that already exists?',
  },
  500: { title: 'Something went wrong.', body: 'The server could not complete the request. Please try again.' },
};

export function ErrorPage({ status, message }: { status: number; message?: string }): JSX.Element {
  const code = ERRORS[status] ? status : 500;
  const info = ERRORS[code];
  useEffect(() => {
    document.title = `${code} | Medama`;
  }, [code]);
  return (
    <div class="page-width error-page">
      <p class="error-code" aria-hidden="true">
        {code}
      </p>
      <h1>{info.title}</h1>
      <p class="muted">{info.body}</p>
      {message && code !== 404 && <p class="error-detail">Error: {message}</p>}
      <Link href="/" class="button">
        Back to my websites
      </Link>
    </div>
  );
}

/** What a revoked, expired or mistyped share link shows (its page answers 404 too). */
export function LinkGone(): JSX.Element {
  return (
    <div class="page-width error-page" data-testid="link-gone">
      <p class="error-code" aria-hidden="true">
        404
      </p>
      <h1>This link is no longer available.</h1>
      <p>The statistics it shared were unpublished, or the link has expired. Ask whoever sent it for a new one.</p>
    </div>
  );
}
