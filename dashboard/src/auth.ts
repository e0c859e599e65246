// Login state as the dashboard sees it. The session cookie `_me_sess` is HttpOnly, so the
// SPA keeps its own readable marker `_me_logged_in` only to choose which header and links to
// show; the server's 401 is what really decides.
import { useEffect, useState } from 'preact/hooks';

const MARKER = '_me_logged_in';
export const DEFAULT_PASSWORD = 'CHANGE_ME_ON_FIRST_LOGIN';
const DEFAULT_PASSWORD_FLAG = 'medama-default-password';

const listeners = new Set<() => void>();

function changed(): void {
  for (const listener of listeners) listener();
}

function secure(): string {
  return window.location.protocol === 'https:' ? '; Secure' : '';
}

export function isLoggedIn(): boolean {
  return document.cookie.split(';').some((part) => part.trim() === `${MARKER}=true`);
}

export function setLoggedIn(): void {
  document.cookie = `${MARKER}=true; Path=/; SameSite=Lax${secure()}`;
  changed();
}

export function clearLoggedIn(): void {
  document.cookie = `${MARKER}=; Path=/; Max-Age=0; SameSite=Lax${secure()}`;
  changed();
}

export function useLoggedIn(): boolean {
  const [value, setValue] = useState(isLoggedIn());
  useEffect(() => {
    const listener = (): void => setValue(isLoggedIn());
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }, []);
  return value;
}

/** True after a login with the first-run password, until the password is changed. */
export function usesDefaultPassword(): boolean {
  try {
    return window.localStorage.getItem(DEFAULT_PASSWORD_FLAG) === '1';
  } catch {
    return false;
  }
}

export function setUsesDefaultPassword(value: boolean): void {
  try {
    if (value) window.localStorage.setItem(DEFAULT_PASSWORD_FLAG, '1');
    else window.localStorage.removeItem(DEFAULT_PASSWORD_FLAG);
  } catch {
    // Storage can be disabled; the prompt is then simply not shown again.
  }
  changed();
}

export function useDefaultPassword(): boolean {
  const [value, setValue] = useState(usesDefaultPassword());
  useEffect(() => {
    const listener = (): void => setValue(usesDefaultPassword());
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }, []);
  return value;
}
