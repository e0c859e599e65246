// Share mode: a visitor of /share/<slug> reads one website's stats with a token, held in memory only
// (no cookie, no local storage: a reload opens the link again). docs/accounts.md.

let token: string | null = null;

export function setShareToken(value: string | null): void {
  token = value;
}

export function shareToken(): string | null {
  return token;
}

/** Whether the page being shown is a share link's (no navigation, settings or other websites). */
export function isSharePath(path: string): boolean {
  return path === '/share' || path.startsWith('/share/');
}
