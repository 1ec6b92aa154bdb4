import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alignDays, linePoints, niceMax, plot } from '../../src/chart.ts';

test('the top of the chart is the next 1, 2 or 5 × 10^k', () => {
  const tests = [
    [0, 1],
    [1, 1],
    [2, 2],
    [3, 5],
    [7, 10],
    [10, 10],
    [11, 20],
    [199, 200],
    [201, 500],
    [5001, 10000],
  ];
  for (const [n, want] of tests) assert.equal(niceMax(n), want, `niceMax(${n})`);
});

test('series share one axis of days; a missing day counts 0', () => {
  const got = alignDays([
    [
      { day: '2026-01-02', count: 5 },
      { day: '2026-01-01', count: 3 },
    ],
    [{ day: '2026-01-03', count: 1 }],
  ]);
  assert.deepEqual(got.days, ['2026-01-01', '2026-01-02', '2026-01-03']);
  assert.deepEqual(got.counts, [
    [3, 5, 0],
    [0, 0, 1],
  ]);
});

test('values map into the box: 0 at the bottom, the top value at the top, days centred in their slots', () => {
  const p = plot(4, 8, 400, 100);
  assert.equal(p.max, 10);
  assert.equal(p.slot, 100);
  assert.deepEqual(p.xs, [50, 150, 250, 350]);
  assert.equal(p.y(0), 100);
  assert.equal(p.y(10), 0);
  assert.equal(p.y(5), 50);
  assert.equal(p.y(-3), 100);
  assert.equal(linePoints(p, [0, 10, 5, 0]), '50.0,100.0 150.0,0.0 250.0,50.0 350.0,100.0');
  assert.deepEqual(plot(0, 0, 400, 100).xs, []);
});
