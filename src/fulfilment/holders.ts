import { randomBytes } from 'node:crypto';

/**
 * Names a lease holder of this process. INSTANCE_ID alone is not unique (a template with a fixed
 * value, an old process still alive during a restart): a random part per process is added, so
 * that a lease taken over is never mistaken for one still held.
 */
const PROCESS = randomBytes(6).toString('hex');

export const holderName = (instanceId: string, tag = ''): string => `${instanceId}/${PROCESS}${tag}`;
