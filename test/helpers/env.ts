/** The required variables, with values that are valid but obviously not real. */
export const REQUIRED_ENV = {
  RAZER_API_ID: 'publisherA',
  RAZER_API_KEY: 'test-api-key-0001',
  MITRA_API_KEY: 'test-mitra-access-key',
  MITRA_SECRET_KEY: 'YourVerySecretKey',
  MITRA_WEBHOOK_TOKEN: 'webhook-token-0123456789',
  // Mitra's development host: never called by a test (each points its gateway at a simulator).
  MITRA_BASE_URL: 'https://h2h-api.vcg.my.id',
} as const;
