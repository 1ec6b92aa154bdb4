import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeReadMark, readBy, readersBySeq } from '../../src/chat/receipts.ts';
import { message } from './fixtures.mjs';

const mark = (userId, seq) => ({ conversationId: 'c1', userId, seq, at: '2026-01-01T00:00:00Z' });

test('a read mark never moves back', () => {
  let m = mergeReadMark(new Map(), mark('bob', 5));
  m = mergeReadMark(m, mark('bob', 3));
  assert.equal(m.get('bob').seq, 5);
  m = mergeReadMark(m, mark('bob', 9));
  assert.equal(m.get('bob').seq, 9);
});

test('each reader shows under the newest shown message their mark reaches', () => {
  const messages = [2, 4, 7, 8].map((s) => message(`m${s}`, `t${s}`, s));
  const marks = new Map([
    ['bob', mark('bob', 7)],
    ['cleo', mark('cleo', 6)], // 5 and 6 were deleted or are thread replies
    ['dan', mark('dan', 1)], // before anything shown
    ['me', mark('me', 8)],
    ['eve', mark('eve', 100)],
  ]);
  const got = readersBySeq(messages, marks, 'me');
  assert.deepEqual(Object.fromEntries(got), { 7: ['bob'], 4: ['cleo'], 8: ['eve'] });
});

test('who has read a message', () => {
  const marks = new Map([
    ['bob', mark('bob', 7)],
    ['cleo', mark('cleo', 3)],
  ]);
  assert.deepEqual(readBy(5, marks, ['bob', 'cleo', 'dan']), ['bob']);
  assert.deepEqual(readBy(3, marks, ['bob', 'cleo']), ['bob', 'cleo']);
});
