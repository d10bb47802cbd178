// CSV as RFC 4180 writes it: fields separated by commas, lines ending CRLF, a field quoted when
// it holds a comma, a quote, CR or LF (quotes doubled inside). Text that a spreadsheet would
// run as a formula is neutralised.

/** The first characters a spreadsheet reads as the start of a formula (OWASP: CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

/** A text cell: a leading ' where a spreadsheet would run it as a formula, then quoted as needed. */
export function textCell(value: string | null): string {
  if (value === null) return '';
  return quoted(FORMULA_START.test(value) ? `'${value}` : value);
}

/** A number cell (an integer we wrote: a minus sign here is a negative amount, not a formula); empty for null. */
export const numberCell = (value: number | null): string => (value === null ? '' : String(value));

function quoted(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** One line of cells already written (textCell, numberCell), ending CRLF. */
export const csvLine = (cells: readonly string[]): string => `${cells.join(',')}\r\n`;
