import { sameSecret } from '../secrets.js';

/** Whether an Authorization header carries exactly `Bearer <token>`. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const presented = /^Bearer (\S+)$/i.exec(header?.trim() ?? '')?.[1] ?? '';
  // Compared even when absent, so that a missing header costs what a wrong one does.
  return sameSecret(presented, token) && presented.length > 0;
}
