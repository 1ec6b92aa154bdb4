import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReadMarks, readMarkDue } from '../../src/chat/readmarks.ts';

test('a read mark is due only beyond what was sent', () => {
  const tests = [
    { seq: 0, sent: undefined, want: null },
    { seq: 5, sent: undefined, want: 5 },
    { seq: 5, sent: 5, want: null },
    { seq: 4, sent: 5, want: null },
    { seq: 6, sent: 5, want: 6 },
  ];
  for (const tt of tests) assert.equal(readMarkDue(tt.seq, tt.sent), tt.want, JSON.stringify(tt));
});

test('a read mark is sent once; after a failure it is sent again', async () => {
  const marks = new ReadMarks(() => {});
  const sent = [];
  let fail = false;
  const mark = async (id, seq) => {
    sent.push(`${id}@${seq}`);
    if (fail) throw new Error('offline');
  };
  await marks.send('c1', 3, mark);
  await marks.send('c1', 3, mark);
  await marks.send('c2', 3, mark);
  fail = true;
  await marks.send('c1', 4, mark);
  fail = false;
  await marks.send('c1', 4, mark);
  assert.deepEqual(sent, ['c1@3', 'c2@3', 'c1@4', 'c1@4']);
});
