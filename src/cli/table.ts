export interface TableColumn {
  header: string;
  /** Default left; right suits numbers. */
  align?: 'left' | 'right';
}

/**
 * Lines of a plain-text table: the header, then one line per row, columns two spaces apart.
 * A missing cell is blank, a cell beyond the columns dropped. Widths count UTF-16 units: wide
 * characters may misalign.
 */
export function formatTable(columns: readonly TableColumn[], rows: readonly (readonly string[])[]): string[] {
  const lines = [columns.map((c) => c.header), ...rows.map((r) => columns.map((_, i) => r[i] ?? ''))];
  const widths = columns.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? '').length)));
  return lines.map((cells) =>
    cells
      .map((cell, i) => {
        const width = widths[i] ?? 0;
        return columns[i]?.align === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd(),
  );
}
