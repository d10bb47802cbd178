import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** How long a console session lasts from sign-in. */
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;

export interface Session {
  id: string;
  /** Who signed in: recorded as the actor of every action taken in the session. */
  actor: string;
  expiresAt: number;
}

/**
 * The key that signs sessions, derived from ADMIN_TOKEN: rotating the token ends every session,
 * and instances sharing the token accept each other's sessions without shared storage.
 */
export const sessionKey = (adminToken: string): Buffer =>
  createHmac('sha256', adminToken).update('gateway console session v1').digest();

const mac = (key: Buffer, text: string): string => createHmac('sha256', key).update(text).digest('base64url');

const sameMac = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** The cookie value: `v1.<id>.<expiresAt>.<actor, base64url>.<mac>`. */
export function issueSession(
  key: Buffer,
  actor: string,
  now: number,
  id = randomBytes(16).toString('base64url'),
) {
  const body = `v1.${id}.${now + SESSION_TTL_MS}.${Buffer.from(actor).toString('base64url')}`;
  return `${body}.${mac(key, body)}`;
}

/** The session a cookie carries, or null when it is forged, altered, expired or malformed. */
export function readSession(key: Buffer, cookie: string | undefined, now: number): Session | null {
  const parts = cookie?.split('.') ?? [];
  if (parts.length !== 5 || parts[0] !== 'v1') return null;
  const [, id = '', expires = '', actor = '', given = ''] = parts;
  if (!sameMac(mac(key, parts.slice(0, 4).join('.')), given)) return null;
  const expiresAt = Number(expires);
  if (!/^\d{1,15}$/.test(expires) || expiresAt <= now) return null;
  return { id, actor: Buffer.from(actor, 'base64url').toString(), expiresAt };
}

/** The form token of a session: every action posts it back, so another site cannot forge one. */
export const csrfToken = (key: Buffer, session: Session): string => mac(key, `csrf.${session.id}`);

export const csrfMatches = (key: Buffer, session: Session, given: unknown): boolean =>
  typeof given === 'string' && sameMac(csrfToken(key, session), given);

/**
 * Sessions signed out before they expire, on this instance. A signed cookie cannot be taken back
 * otherwise; another instance honours it until it expires (at most SESSION_TTL_MS).
 */
export class SignedOut {
  readonly #until = new Map<string, number>();

  add(session: Session): void {
    this.#until.set(session.id, session.expiresAt);
  }

  has(session: Session, now: number): boolean {
    for (const [id, until] of this.#until) if (until <= now) this.#until.delete(id);
    return this.#until.has(session.id);
  }
}
