import type { Story } from '../admin/story.js';

export type EntryKind = 'event' | 'razer' | 'supplier' | 'webhook';

export interface TimelineEntry {
  at: number;
  kind: EntryKind;
  title: string;
  /** Short facts shown under the title. */
  facts: string[];
  /** Request and reply bodies, shown folded. */
  bodies: { label: string; text: string }[];
  /** A stored webhook's id: it can be replayed. */
  webhookId?: number;
}

/** Everything recorded about a transaction, as one list in time order (ties keep kind order). */
export function timeline(story: Story): TimelineEntry[] {
  const entries: TimelineEntry[] = [
    ...story.events.map(
      (e): TimelineEntry => ({
        at: e.at,
        kind: 'event',
        title: `${e.fromState} → ${e.toState}`,
        facts: [
          `cause ${e.cause}${e.actor ? ` by ${e.actor}` : ''}`,
          ...(e.detail ? [e.detail] : []),
          ...(e.instanceId ? [`instance ${e.instanceId}`] : []),
        ],
        bodies: [],
      }),
    ),
    ...story.exchanges.map(
      (x): TimelineEntry => ({
        at: x.receivedAt,
        kind: 'razer',
        title: `Razer ${x.endpoint}: ${x.method} ${x.path} → ${x.responseStatus}`,
        facts: [`answered in ${x.respondedAt - x.receivedAt} ms`],
        bodies: [
          ...(x.requestBody ? [{ label: 'request', text: x.requestBody }] : []),
          { label: 'answer', text: x.responseBody },
        ],
      }),
    ),
    ...story.supplierCalls.map(
      (s): TimelineEntry => ({
        at: s.startedAt,
        kind: 'supplier',
        title: `Mitra ${s.operation}: ${s.outcome}`,
        facts: [
          `${s.method} ${s.url}`,
          `HTTP ${s.httpStatus ?? '–'}${s.rcCode ? `, rc ${s.rcCode}` : ''}, ${s.durationMs} ms`,
          ...(s.error ? [s.error] : []),
        ],
        bodies: [
          ...(s.requestBody ? [{ label: 'request', text: s.requestBody }] : []),
          ...(s.replyBody ? [{ label: 'reply', text: s.replyBody }] : []),
        ],
      }),
    ),
    ...story.webhooks.map(
      (w): TimelineEntry => ({
        at: w.receivedAt,
        kind: 'webhook',
        title: `Webhook #${w.id}${w.kind ? ` (${w.kind})` : ''}: ${w.result ?? 'not processed yet'}`,
        facts: [
          `from ${w.sourceIp}`,
          w.processedAt ? `processed ${w.processedAt - w.receivedAt} ms later` : '',
        ],
        bodies: [{ label: 'body', text: w.body }],
        webhookId: w.id,
      }),
    ),
  ];
  return entries
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.at - b.e.at || a.i - b.i)
    .map(({ e }) => ({ ...e, facts: e.facts.filter((f) => f !== '') }));
}
