import { describe, expect, it } from 'vitest';
import { toCsv } from './csv.ts';

describe('toCsv', () => {
  it('quotes what needs quoting and keeps spreadsheet formulas inert', () => {
    const rows = [
      { a: 'plain', b: '-12.5', c: null },
      { a: 'with, comma', b: 'say "hi"', c: 'line\nbreak' },
      { a: '=HYPERLINK("x")', b: '+1+2', c: '@cmd' },
    ];
    const csv = toCsv(rows, [
      { header: 'a', value: (r) => r.a },
      { header: 'b', value: (r) => r.b },
      { header: 'c', value: (r) => r.c },
    ]);
    expect(csv).toBe(
      'a,b,c\r\nplain,-12.5,\r\n"with, comma","say ""hi""","line\nbreak"\r\n"\'=HYPERLINK(""x"")",\'+1+2,\'@cmd\r\n',
    );
  });
});
