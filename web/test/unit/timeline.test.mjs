import { test } from 'node:test';
import assert from 'node:assert/strict';
import { highestSeq, inTimeline, mergeMessages, newThread, newerCopy, withinLoaded, withoutMessage } from '../../src/chat/timeline.ts';
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

test('of two copies of a message the higher changeSeq wins, whatever the arrival order', () => {
  const older = message('m1', 'first text', 1, { changeSeq: 3 });
  const edited = message('m1', 'edited text', 1, { changeSeq: 7 });
  assert.equal(mergeMessages([edited], [older])[0].content, 'edited text', 'a stale page must not undo an edit');
  assert.equal(mergeMessages([older], [edited])[0].content, 'edited text');
  assert.equal(newerCopy(undefined, older), older);
  assert.equal(newerCopy(older, message('m1', 'same seq, read later', 1, { changeSeq: 3 })).content, 'same seq, read later');
});

test('tombstones and messages known deleted never show', () => {
  const have = deepFreeze([message('m1', 'a', 1), message('m2', 'b', 2)]);
  assert.deepEqual(ids(mergeMessages(have, [message('m2', '', 2, { deletedAt: '2026-01-01T00:01:00Z' })])), ['m1']);
  assert.deepEqual(ids(mergeMessages(have, [message('m3', 'c', 3)], new Set(['m3']))), ['m1', 'm2']);
});

test('thread replies show in the timeline only when also sent to the conversation', () => {
  assert.equal(inTimeline(message('m1', 'root', 1)), true);
  assert.equal(inTimeline(message('m2', 'reply', 2, { parentMessageId: 'm1' })), false);
  assert.equal(inTimeline(message('m3', 'reply', 3, { parentMessageId: 'm1', alsoInConversation: true })), true);
});

test('a change to a message older than the loaded pages is left for the page that brings it', () => {
  const view = { messages: [message('m40', 'x', 40), message('m41', 'y', 41)], nextToken: 'older' };
  assert.equal(withinLoaded(view, message('m3', 'old', 3)), false);
  assert.equal(withinLoaded(view, message('m40', 'x', 40)), true);
  assert.equal(withinLoaded(view, message('m42', 'new', 42)), true);
  assert.equal(withinLoaded({ messages: [], nextToken: null }, message('m1', 'first', 1)), true, 'all is loaded');
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
  assert.deepEqual([t.messages, t.pending, t.lastSeq, t.lastChangeSeq], [[], [], 0, 0]);
});
