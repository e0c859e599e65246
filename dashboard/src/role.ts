// The signed-in user's role (docs/accounts.md): Medama's GET /api/user has no room for it, so it is read from
// the Umami-compatible /me, with the same session cookie. A viewer sees no controls it could not use.
import { ApiError, type Role } from './api';
import { useData } from './data';

async function fetchRole(signal: AbortSignal): Promise<Role> {
  const response = await fetch('/umami/api/me', { credentials: 'same-origin', signal });
  if (!response.ok) throw new ApiError(response.status, response.statusText);
  const me = (await response.json()) as { role?: string };
  return me.role === 'admin' ? 'admin' : 'viewer';
}

/** 'admin', 'viewer', or undefined while unknown (show nothing admin-only until it is known). */
export function useRole(): Role | undefined {
  return useData('role', fetchRole).data;
}
