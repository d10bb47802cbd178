import { describe, expect, it } from 'vitest';
import { formatTable } from '../src/cli/table.js';

describe('formatTable', () => {
  it('aligns columns two spaces apart under a header line', () => {
    expect(
      formatTable(
        [{ header: 'SKU' }, { header: 'PRICE', align: 'right' }, { header: 'NOTE' }],
        [
          ['DIAMOND50', '15000', 'ok'],
          ['GI60', '900', 'inactive brand'],
        ],
      ),
    ).toEqual(['SKU        PRICE  NOTE', 'DIAMOND50  15000  ok', 'GI60         900  inactive brand']);
  });

  it('widens a column to its header, right-aligning the header too', () => {
    expect(formatTable([{ header: 'A' }, { header: 'MARGIN', align: 'right' }], [['x', '-5']])).toEqual([
      'A  MARGIN',
      'x      -5',
    ]);
  });

  it('leaves no trailing spaces, even after an empty or missing last cell', () => {
    const lines = formatTable([{ header: 'SKU' }, { header: 'PROBLEM' }], [['LONGSKU1', ''], ['S']]);
    expect(lines).toEqual(['SKU       PROBLEM', 'LONGSKU1', 'S']);
  });

  it('drops cells beyond the columns, and gives only the header without rows', () => {
    expect(formatTable([{ header: 'A', align: 'left' }], [['1', 'extra']])).toEqual(['A', '1']);
    expect(formatTable([{ header: 'A' }, { header: 'B' }], [])).toEqual(['A  B']);
  });
});
