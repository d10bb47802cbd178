import { z } from 'zod';
import { envVarsSchema, parseEnv, readEnvironment } from '../config/env.js';
import type { CliIo } from './run.js';

/**
 * What reaches the running gateway: actions that call the supplier (recheck, resolve, balance,
 * the live catalogue) go through its admin API, because that process owns the rate limit and the
 * step leases; the CLI never calls Mitra itself.
 */
const adminClientEnv = envVarsSchema.pick({ PORT: true }).extend({
  ADMIN_TOKEN: z.string({ error: "is required: the running gateway's admin API needs it" }).min(1),
  GATEWAY_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL, e.g. http://127.0.0.1:8080' })
    .transform((u) => u.replace(/\/+$/, ''))
    .optional(),
});

export type AdminCall = (
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
) => Promise<{ ok: true; value: unknown } | { ok: false }>;

/**
 * A caller of the admin API for `gateway <command>`, or null (with the reason printed) when the
 * environment lacks what it needs. Errors are printed as one line; `ok: false` then.
 */
export function adminClient(command: string, io: CliIo, actor?: string): AdminCall | null {
  const env = parseEnv(adminClientEnv, readEnvironment(io.cwd, io.env));
  if (!env.ok) {
    for (const e of env.errors) io.err(`gateway ${command}: environment: ${e}`);
    return null;
  }
  const base = env.value.GATEWAY_URL ?? `http://127.0.0.1:${env.value.PORT}`;
  const token = env.value.ADMIN_TOKEN;
  return async (method, path, body) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (actor) headers['x-operator'] = actor;
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(60_000),
      });
    } catch (err) {
      const why =
        err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
      io.err(
        `gateway ${command}: cannot reach the gateway at ${base} (${why}); is it running? (GATEWAY_URL)`,
      );
      return { ok: false };
    }
    const text = await response.text();
    let value: unknown = text;
    try {
      value = JSON.parse(text);
    } catch {
      // Not JSON: shown as it came.
    }
    if (!response.ok) {
      const message =
        value && typeof value === 'object' && 'message' in value ? String(value.message) : text.slice(0, 300);
      io.err(`gateway ${command}: ${response.status} ${message}`);
      return { ok: false };
    }
    return { ok: true, value };
  };
}
