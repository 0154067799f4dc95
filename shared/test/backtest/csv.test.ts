/**
 * CSV formats detected from their header, times in the right zone, and every bad line reported with
 * its line number.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBarsCsv } from '../../src/backtest/csv.ts';
import { hasMarketData, marketDataDir, missingDataMessage } from '../helpers/market-data.ts';

describe('formats', () => {
  it('Yahoo: Date,Open,High,Low,Close,Adj Close,Volume (Adj Close ignored)', () => {
    const r = parseBarsCsv(
      'Date,Open,High,Low,Close,Adj Close,Volume\n1999-01-25,1.770833,1.833333,1.640625,1.8125,1.677496,12762000\n1999-01-22,1.75,1.953125,1.552083,1.640625,1.518424,67867200\n',
      { symbol: 'nvda' },
    );
    expect(r.problems).toEqual([]);
    expect(r.format).toBe('yahoo');
    expect(r.timeframe).toBe('1Day');
    expect(r.ignored).toEqual(['Adj Close']);
    const s = r.series[0];
    expect(s.symbol).toBe('NVDA');
    expect(Array.from(s.time)).toEqual([
      Date.parse('1999-01-22T00:00:00Z'),
      Date.parse('1999-01-25T00:00:00Z'),
    ]);
    expect(Array.from(s.close)).toEqual([1.640625, 1.8125]);
    expect(Array.from(s.volume)).toEqual([67867200, 12762000]);
  });

  it('Alpaca: t,o,h,l,c,v,n,vw with RFC 3339 times and a symbol column', () => {
    const r = parseBarsCsv(
      'symbol,t,o,h,l,c,v,n,vw\nAAPL,2024-01-02T14:30:00Z,187.15,188.44,187.1,188.05,1000,10,187.9\nAAPL,2024-01-02T14:31:00Z,188.05,188.2,187.9,188,800,8,188.01\nMSFT,2024-01-02T14:30:00Z,370,371,369.5,370.5,500,5,370.2\n',
    );
    expect(r.problems).toEqual([]);
    expect(r.format).toBe('alpaca');
    expect(r.timeframe).toBe('1Min');
    expect(r.series.map((s) => [s.symbol, s.length])).toEqual([
      ['AAPL', 2],
      ['MSFT', 1],
    ]);
  });

  it('Alpaca export with timestamp,open,high,low,close,volume,trade_count,vwap and epoch seconds', () => {
    const r = parseBarsCsv(
      'timestamp,open,high,low,close,volume,trade_count,vwap\n1704205800,1,2,0.5,1.5,10,1,1.2\n1704209400,1.5,2,1,1.8,10,1,1.6\n',
      {
        symbol: 'X',
      },
    );
    expect(r.problems).toEqual([]);
    expect(r.format).toBe('alpaca');
    expect(r.timeframe).toBe('1Hour');
    expect(r.series[0].time[0]).toBe(1704205800_000);
  });

  it('separate Date and Time columns, read in the given zone', () => {
    const csv =
      'Date,Time,Open,High,Low,Close,Volume,OpenInterest\n2006-01-02,09:05:00,3578.73,3587.88,3578.73,3582.99,0,0\n2006-01-02,09:10:00,3583.01,3588.40,3583.01,3588.03,0,0\n';
    const utc = parseBarsCsv(csv, { symbol: 'IDX' });
    expect(utc.problems).toEqual([]);
    expect(utc.format).toBe('date-time');
    expect(utc.timeframe).toBe('5Min');
    expect(utc.series[0].time[0]).toBe(Date.parse('2006-01-02T09:05:00Z'));
    const ny = parseBarsCsv(csv, { symbol: 'IDX', timezone: 'America/New_York' });
    expect(ny.series[0].time[0]).toBe(Date.parse('2006-01-02T14:05:00Z')); // EST = UTC−5
    const summer = parseBarsCsv(
      'date,open,high,low,close\n2024-07-01 09:30,1,1,1,1\n2024-07-01 09:31,1,1,1,1\n',
      {
        symbol: 'X',
        timezone: 'America/New_York',
      },
    );
    expect(summer.series[0].time[0]).toBe(Date.parse('2024-07-01T13:30:00Z')); // EDT = UTC−4
  });

  it('generic lower-case OHLCV without volume', () => {
    const r = parseBarsCsv(
      'datetime,open,high,low,close\n2024-01-01 00:00:00,1,2,0.5,1\n2024-01-01 04:00:00,1,2,0.5,1\n',
      { symbol: 'BTC/USD' },
    );
    expect(r.problems).toEqual([]);
    expect(r.format).toBe('generic');
    expect(r.timeframe).toBe('4Hour');
    expect(r.series[0].volume[0]).toBe(0);
  });
});

describe('bad input', () => {
  it('reports every bad line with its number', () => {
    const r = parseBarsCsv(
      [
        'Date,Open,High,Low,Close,Volume',
        '2024-01-02,10,11,9,10,100', // 2 ok
        '2024-01-03,10,11,9,abc,100', // 3 close not a number
        '2024-13-01,10,11,9,10,100', // 4 not a date
        '2024-01-05,10,9,8,10,100', // 5 high below close
        '2024-01-06,10,11,9,10', // 6 too few fields
        '2024-01-07,10,11,0,10,100', // 7 low not > 0
        '2024-01-02,10,11,9,10,100', // 8 repeats line 2
        '2024-01-09,10,11,9,10,-1', // 9 negative volume
      ].join('\n'),
      { symbol: 'X' },
    );
    expect(r.problems.map((p) => p.line)).toEqual([3, 4, 5, 6, 7, 8, 9]);
    expect(r.problems[0].message).toMatch(/close "abc" is not a number/);
    expect(r.problems[1].message).toMatch(/"2024-13-01" is not a date/);
    expect(r.problems[5].message).toMatch(/repeats the X bar of line 2/);
  });
  it('a header without prices, a missing symbol, an empty file', () => {
    expect(parseBarsCsv('when,price\n1,2\n', { symbol: 'X' }).problems[0].message).toMatch(
      /missing: date\/time\/timestamp, open, high, low, close/,
    );
    expect(parseBarsCsv('Date,Open,High,Low,Close\n2024-01-01,1,1,1,1\n').problems[0].message).toMatch(
      /--symbol/,
    );
    expect(parseBarsCsv('Date,Open,High,Low,Close\n', { symbol: 'X' }).problems[0].message).toMatch(
      /no bars/,
    );
  });
});

if (!hasMarketData) console.warn(missingDataMessage);

describe.skipIf(!hasMarketData)('the files in ../shared/data', () => {
  it.each([
    ['nvda-1999-2014.txt', 'yahoo', '1Day', 4012],
    ['orcl-1995-2014.txt', 'yahoo', '1Day', 5036],
    ['yhoo-1996-2014.txt', 'yahoo', '1Day', 4713],
    ['2006-day-001.txt', 'generic', '1Day', 255],
    ['2006-min-005.txt', 'date-time', '5Min', 2142],
  ])('%s: %s, %s, %i bars, no problems', (file, format, timeframe, n) => {
    const r = parseBarsCsv(readFileSync(join(marketDataDir, file), 'utf8'), { symbol: 'X' });
    expect(r.problems).toEqual([]);
    expect([r.format, r.timeframe, r.series[0].length]).toEqual([format, timeframe, n]);
  });
});
