/**
 * Credentials of the sandbox: public on purpose, so the production start refuses them.
 * Nothing real ever accepts them.
 */
export const SANDBOX_CREDENTIALS = {
  RAZER_API_ID: 'sandbox-publisher',
  RAZER_API_KEY: 'sandbox-razer-key-not-secret',
  MITRA_API_KEY: 'sandbox-mitra-access-key',
  MITRA_SECRET_KEY: 'sandbox-mitra-secret-key',
  MITRA_WEBHOOK_TOKEN: 'sandbox-webhook-token',
  ADMIN_TOKEN: 'sandbox-admin-token-not-secret',
} as const;

/** The names of variables whose value is a sandbox credential. */
export function sandboxCredentialsIn(env: Readonly<Record<string, string | undefined>>): string[] {
  return Object.entries(SANDBOX_CREDENTIALS)
    .filter(([name, value]) => env[name] === value)
    .map(([name]) => name);
}
