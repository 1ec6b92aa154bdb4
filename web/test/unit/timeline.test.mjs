import { test } from 'node:test';
import assert from 'node:assert/strict';
import { highestSeq, mergeMessages, newThread, reconcileWithPage, withoutMessage } from '../../src/chat/timeline.ts';
import { message, deepFreeze } from './fixtures.mjs';

const seqs = (ms) => ms.map((m) => m.seq);
const ids = (ms) => ms.map((m) => m.messageId);

test('merging keeps one message per seq, oldest first, whatever the arrival order', () => {
  const have = deepFreeze([message('m2', 'two', 2), message('m5', 'five', 5)]);
  const got = mergeMessages(have, deepFreeze([message('m7', 'seven', 7), message('m1', 'one', 1), message('m5', 'five', 5)]));
  assert.deepEqual(seqs(got), [1, 2, 5, 7]);
  assert.deepEqual(seqs(mergeMessages(got, [])), [1, 2, 5, 7]);
});

test('a replayed message replaces the copy with its seq (the newer copy wins)', () => {
  const got = mergeMessages([message('m1', 'old text', 1)], [message('m1', 'new text', 1)]);
  assert.deepEqual(got.map((m) => m.content), ['new text']);
});

test('highestSeq never goes below what was seen', () => {
  assert.equal(highestSeq(9, [message('a', 'x', 3)]), 9);
  assert.equal(highestSeq(2, [message('a', 'x', 3), message('b', 'y', 7)]), 7);
  assert.equal(highestSeq(0, []), 0);
});

test('a fresh page drops what was deleted within its range only', () => {
  const have = deepFreeze([1, 2, 3, 4, 5, 6].map((i) => message(`m${i}`, `t${i}`, i)));
  // newest first, as listMessages returns it: seq 3..6, with 4 deleted meanwhile, and a new 7
  const page = deepFreeze([7, 6, 5, 3].map((i) => message(`m${i}`, `t${i}`, i)));
  assert.deepEqual(ids(reconcileWithPage(have, page)), ['m1', 'm2', 'm3', 'm5', 'm6', 'm7']);
  assert.deepEqual(ids(reconcileWithPage(have, [])), ids(have), 'an empty page says nothing');
});

test('a deleted message leaves the timeline', () => {
  const have = deepFreeze([message('m1', 'a', 1), message('m2', 'b', 2)]);
  assert.deepEqual(ids(withoutMessage(have, 'm1')), ['m2']);
  assert.deepEqual(ids(withoutMessage(have, 'nope')), ['m1', 'm2']);
});

test('a new thread is loading and empty', () => {
  const t = newThread('c1');
  assert.equal(t.conversationId, 'c1');
  assert.equal(t.loading, true);
  assert.deepEqual([t.messages, t.pending, t.lastSeq], [[], [], 0]);
});
