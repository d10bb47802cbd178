import type { Lane, Limiter, Permit } from '../mitra/limiter.js';
import { inSpan, type Tracer } from './tracer.js';

/** The limiter with a `rate-limit wait` span for each permit taken inside a trace. */
export function tracedLimiter(limiter: Limiter, tracer: Tracer): Limiter {
  return {
    acquire(lane: Lane, signal?: AbortSignal): Promise<Permit> {
      if (!tracer.active()) return limiter.acquire(lane, signal);
      return inSpan(tracer, 'rate-limit wait', { 'gateway.supplier.lane': lane }, () =>
        limiter.acquire(lane, signal),
      );
    },
    backoff: (ms) => limiter.backoff(ms),
    stats: () => limiter.stats(),
    close: () => limiter.close(),
  };
}
