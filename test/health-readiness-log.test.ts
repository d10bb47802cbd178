import { afterEach, describe, expect, it } from 'vitest';
import { answerLog, healthRoutes, type ReadinessDeps } from '../src/http/health.js';
import { createLogger } from '../src/log.js';
import { type E2E, startE2E } from './helpers/e2e.js';

/**
 * /readyz logs the supplier guards' figures (issue 24: "in /readyz's details in the log"), but
 * not one line per probe: load balancers probe every few seconds. A line goes when readiness, a
 * check or the queue guard's verdict changes, and otherwise at most once a minute.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;

type Answer = Parameters<NonNullable<ReadinessDeps['onAnswer']>>[0];

function probed() {
  const clock = { now: 1_000_000 };
  const told: Answer[] = [];
  const state = { writable: true, wait: 1, details: true };
  const app = healthRoutes({
    storageWritable: async () => {
      if (!state.writable) throw new Error('disk full');
    },
    migrated: () => true,
    cataloguePresent: async () => true,
    details: async () => {
      if (!state.details) throw new Error('database away');
      return { supplier: { expectedWaitSeconds: state.wait, maxWaitSeconds: 10 } };
    },
    verdict: (d) =>
      (d.supplier as { expectedWaitSeconds: number }).expectedWaitSeconds > 10 ? 'over' : 'under',
    onAnswer: (answer) => told.push(answer),
    now: () => clock.now,
  });
  return {
    state,
    told,
    /** One probe, `afterMs` after the last. */
    async probe(afterMs = 5 * SECOND) {
      clock.now += afterMs;
      return (await app.request('/readyz')).status;
    },
  };
}

describe('the readiness log line', () => {
  it('is written for the first probe, then at most once a minute while nothing changes', async () => {
    const p = probed();
    // A probe every 5 s for three minutes: 37 probes.
    expect(await p.probe(0)).toBe(200);
    for (let i = 0; i < 36; i++) expect(await p.probe()).toBe(200);
    expect(p.told).toHaveLength(4); // at 0, 60, 120 and 180 s
    expect(p.told[0]).toEqual({
      status: 'ready',
      checks: { storage: 'ok', migrations: 'ok', catalogue: 'ok' },
      details: { supplier: { expectedWaitSeconds: 1, maxWaitSeconds: 10 } },
    });
  });

  it('is written at once when readiness changes, both ways', async () => {
    const p = probed();
    await p.probe(0);
    p.state.writable = false;
    expect(await p.probe()).toBe(503);
    expect(p.told.map((a) => a.status)).toEqual(['ready', 'not ready']);
    expect(await p.probe()).toBe(503);
    expect(p.told).toHaveLength(2);
    p.state.writable = true;
    expect(await p.probe()).toBe(200);
    expect(p.told.map((a) => a.status)).toEqual(['ready', 'not ready', 'ready']);
  });

  it('is written at once when the queue guard’s verdict changes, not when a figure alone moves', async () => {
    const p = probed();
    await p.probe(0);
    p.state.wait = 4; // still under its limit
    await p.probe();
    expect(p.told).toHaveLength(1);
    p.state.wait = 11; // over
    await p.probe();
    expect(p.told.at(-1)?.details).toEqual({ supplier: { expectedWaitSeconds: 11, maxWaitSeconds: 10 } });
    p.state.wait = 12;
    await p.probe();
    expect(p.told).toHaveLength(2);
    p.state.wait = 2; // under again
    await p.probe();
    expect(p.told).toHaveLength(3);
    expect(p.told.at(-1)?.details).toEqual({ supplier: { expectedWaitSeconds: 2, maxWaitSeconds: 10 } });
  });

  it('is written when the details cannot be read, and again when they can', async () => {
    const p = probed();
    await p.probe(0);
    p.state.details = false;
    expect(await p.probe()).toBe(200);
    expect(p.told.at(-1)?.details).toBeNull();
    await p.probe();
    expect(p.told).toHaveLength(2);
    p.state.details = true;
    await p.probe();
    expect(p.told).toHaveLength(3);
  });

  it('tells at once after a clock stepped back', () => {
    let now = 10 * MINUTE;
    const due = answerLog(() => now, MINUTE);
    expect(due('a')).toBe(true);
    now += 30 * SECOND;
    expect(due('a')).toBe(false);
    now -= 5 * MINUTE;
    expect(due('a')).toBe(true);
    now += MINUTE - 1;
    expect(due('a')).toBe(false);
    now += 1;
    expect(due('a')).toBe(true);
  });
});

describe('a running gateway’s readiness log', () => {
  let e: E2E | undefined;
  afterEach(async () => {
    await e?.close();
    e = undefined;
  });

  it('writes one line for many probes in a row, with the supplier figures', async () => {
    const lines: Record<string, unknown>[] = [];
    e = await startE2E({
      logger: createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) }),
    });
    for (let i = 0; i < 10; i++) expect((await fetch(`${e.url}/readyz`)).status).toBe(200);
    const logged = lines.filter((l) => l.msg === 'readiness');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      status: 'ready',
      details: {
        supplier: {
          committedIdr: 0,
          queuedOrders: 0,
          expectedWaitSeconds: 0,
          maxWaitSeconds: 600,
          unread: null,
        },
      },
    });
  });
});
