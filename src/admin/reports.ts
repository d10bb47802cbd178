import type { ReportQuery } from '../reports/sales.js';

// What the admin API and the console share about the sales reports as files: names, headers,
// and a CSV of any length streamed in chunks rather than held whole in memory.

export const CSV_TYPE = 'text/csv; charset=utf-8';

/** sales-by-day-2026-11-01-to-2026-11-30.csv: what it holds and for which days. */
export const salesCsvName = (q: Pick<ReportQuery, 'by' | 'from' | 'to'>): string =>
  `sales-by-${q.by}-${q.from}-to-${q.to}.csv`;

/** transactions-2026-11-01-to-2026-11-30.csv */
export const transactionsCsvName = (q: Pick<ReportQuery, 'from' | 'to'>): string =>
  `transactions-${q.from}-to-${q.to}.csv`;

/** The headers of a CSV download (the names above need no quoting: digits, letters and dashes). */
export const csvHeaders = (fileName: string): Record<string, string> => ({
  'content-type': CSV_TYPE,
  'content-disposition': `attachment; filename="${fileName}"`,
});

/** About what one chunk of a streamed CSV holds before it is sent. */
const CHUNK_CHARS = 64 * 1024;

/**
 * The lines as a byte stream, in chunks of about 64 KiB. The first chunk is read before this
 * resolves, so that a failure to begin (storage down) is answered as an error, not as a file cut
 * after its header; a failure later can only end the stream early, reported to `onError`. A
 * client that goes away stops the reading.
 */
export async function csvStream(
  lines: AsyncGenerator<string>,
  onError: (err: unknown) => void,
): Promise<ReadableStream<Uint8Array>> {
  const encoder = new TextEncoder();
  const chunk = async (): Promise<string | null> => {
    let text = '';
    while (text.length < CHUNK_CHARS) {
      const next = await lines.next();
      if (next.done) return text === '' ? null : text;
      text += next.value;
    }
    return text;
  };
  // Read ahead; undefined once sent.
  let head: string | null | undefined = await chunk();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const text = head === undefined ? await chunk() : head;
        head = undefined;
        if (text === null) controller.close();
        else controller.enqueue(encoder.encode(text));
      } catch (err) {
        onError(err);
        controller.error(err);
      }
    },
    async cancel() {
      await lines.return(undefined);
    },
  });
}
