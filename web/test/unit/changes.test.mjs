import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyMessages, changedConversations, changedMessages, lastChange, sentMessages } from '../../src/chat/changes.ts';
import { inTimeline } from '../../src/chat/timeline.ts';
import { conversation, message, deepFreeze } from './fixtures.mjs';

const change = (changeSeq, kind, m, extra = {}) => ({ changeSeq, kind, at: '2026-01-01T00:00:00Z', userId: 'you', message: m, ...extra });
const texts = (v) => v.messages.map((m) => m.content);

/** Folds changes into a view as the app does with the change log. */
function fold(view, changes) {
  return applyMessages(view, changedMessages(changes), inTimeline);
}

test('the change log replayed after a drop brings sends, edits, deletions and reactions', () => {
  const view = deepFreeze({
    messages: [message('m1', 'one', 1, { changeSeq: 1 }), message('m2', 'two', 2, { changeSeq: 2 })],
    deleted: new Set(),
  });
  const changes = [
    change(3, 'MESSAGE_SENT', message('m3', 'three', 3, { changeSeq: 3 })),
    change(4, 'MESSAGE_EDITED', message('m1', 'one, edited', 1, { changeSeq: 4, editedAt: '2026-01-01T00:02:00Z' })),
    change(5, 'MESSAGE_DELETED', message('m2', '', 2, { changeSeq: 5, deletedAt: '2026-01-01T00:03:00Z' })),
    change(6, 'REACTION_ADDED', message('m3', 'three', 3, { changeSeq: 6, reactions: [{ key: '👍', count: 1, reactedByMe: false, userIds: ['you'] }] }), {
      reaction: { key: '👍', userId: 'you' },
    }),
  ];
  const got = fold(view, changes);
  assert.deepEqual(texts(got), ['one, edited', 'three']);
  assert.equal(got.messages[1].reactions[0].count, 1);
  assert.deepEqual([...got.deleted], ['m2']);
  assert.equal(lastChange(2, changes), 6);
});

test('a change replayed twice, or an older copy after a newer one, changes nothing', () => {
  const edit = change(4, 'MESSAGE_EDITED', message('m1', 'edited', 1, { changeSeq: 4 }));
  const sent = change(1, 'MESSAGE_SENT', message('m1', 'original', 1, { changeSeq: 1 }));
  const once = fold({ messages: [], deleted: new Set() }, [sent, edit]);
  assert.deepEqual(texts(once), ['edited']);
  assert.deepEqual(texts(fold(once, [sent, edit, sent])), ['edited']);
});

test('a deleted message does not come back with a copy from before its deletion', () => {
  const del = change(5, 'MESSAGE_DELETED', message('m2', '', 2, { changeSeq: 5, deletedAt: '2026-01-01T00:03:00Z' }));
  const stale = message('m2', 'two', 2, { changeSeq: 2 });
  const v = fold({ messages: [stale], deleted: new Set() }, [del]);
  assert.deepEqual(texts(v), []);
  assert.deepEqual(texts(applyMessages(v, [stale], () => true)), [], 'e.g. a page read before the deletion');
});

test('a thread reply updates its root but stays out of the timeline', () => {
  const root = message('r', 'root', 1, { changeSeq: 1, replyCount: 0 });
  const reply = message('x', 'in the thread', 2, { changeSeq: 2, parentMessageId: 'r' });
  const rootAfter = message('r', 'root', 1, { changeSeq: 3, replyCount: 1, unreadReplies: 1, replyUserIds: ['you'] });
  const v = fold({ messages: [root], deleted: new Set() }, [change(2, 'MESSAGE_SENT', reply), change(3, 'THREAD_UPDATED', rootAfter)]);
  assert.deepEqual(texts(v), ['root']);
  assert.equal(v.messages[0].replyCount, 1);
  assert.equal(v.messages[0].unreadReplies, 1);
});

test('what the changes carry: sends, renames, the resume position', () => {
  const c = conversation('c1', { name: 'Renamed' });
  const changes = [
    change(7, 'CONVERSATION_UPDATED', null, { conversation: c }),
    change(8, 'MESSAGE_SENT', message('m9', 'hi', 9, { changeSeq: 8 })),
    change(9, 'MESSAGE_SENT', message('m10', '', 10, { changeSeq: 10, deletedAt: '2026-01-01T00:00:00Z' })),
  ];
  assert.deepEqual(changedConversations(changes), [c]);
  assert.deepEqual(sentMessages(changes).map((m) => m.messageId), ['m9'], 'a send replayed after its deletion is not new');
  assert.equal(changedMessages(changes).length, 2);
  assert.equal(lastChange(20, changes), 20, 'never moves back');
});

test('a deletion removes its message even when its tombstone lacks deletedAt', () => {
  const view = { messages: [message('m1', 'one', 1, { changeSeq: 1 })], deleted: new Set() };
  const del = change(2, 'MESSAGE_DELETED', message('m1', '', 1, { changeSeq: 2, deletedAt: null }));
  assert.deepEqual(texts(fold(view, [del])), []);
  assert.equal(changedMessages([del])[0].deletedAt, del.at);
});

test("a moderator's deletion leaves a tombstone in place; the author's own deletion removes", () => {
  const view = deepFreeze({
    messages: [message('m1', 'one', 1, { changeSeq: 1, userId: 'you' }), message('m2', 'two', 2, { changeSeq: 2, userId: 'you' })],
    deleted: new Set(),
  });
  const got = fold(view, [
    change(3, 'MESSAGE_DELETED', message('m1', 'one', 1, { changeSeq: 3, userId: 'you', deletedAt: '2026-01-01T00:03:00Z', deletedBy: 'mod' })),
    change(4, 'MESSAGE_DELETED', message('m2', '', 2, { changeSeq: 4, userId: 'you', deletedAt: '2026-01-01T00:04:00Z', deletedBy: 'you' })),
  ]);
  assert.deepEqual(got.messages.map((m) => [m.messageId, m.content, m.deletedBy]), [['m1', '', 'mod']]);
  // An older live copy (a late page) does not bring the text back.
  const again = applyMessages(got, [message('m1', 'one', 1, { changeSeq: 1, userId: 'you' })], inTimeline);
  assert.deepEqual(again.messages.map((m) => [m.messageId, m.content, !!m.deletedAt]), [['m1', '', true]]);
});
