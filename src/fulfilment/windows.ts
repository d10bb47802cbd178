/** An initiated transaction not topped up within this time is closed as EXPIRED. */
export const INIT_TTL_MS = 24 * 60 * 60 * 1000;

/** "Per day" limits count the purchases of the last 24 hours, whatever the time zone. */
export const LIMIT_WINDOW_MS = 24 * 60 * 60 * 1000;
