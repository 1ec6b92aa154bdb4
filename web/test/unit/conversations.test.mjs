import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  activityTime,
  byActivity,
  bumpConversation,
  mergeConversation,
  nextListToken,
  preview,
  unreadElsewhere,
} from '../../src/chat/conversations.ts';
import { maxPreviewLength } from '../../src/limits.ts';
import { conversation, message, deepFreeze } from './fixtures.mjs';

test('activity is the last message time, else the creation time, else 0', () => {
  assert.equal(activityTime(conversation('a', { createdAt: '2026-01-01T00:00:00Z' })), Date.parse('2026-01-01T00:00:00Z'));
  assert.equal(
    activityTime(conversation('a', { lastMessageAt: '2026-02-01T00:00:00Z' })),
    Date.parse('2026-02-01T00:00:00Z'),
  );
  assert.equal(activityTime(conversation('a', { createdAt: 'garbage' })), 0);
});

test('the list is ordered by activity, newest first', () => {
  const cs = [
    conversation('old'),
    conversation('new', { lastMessageAt: '2026-03-01T00:00:00Z' }),
    conversation('mid', { createdAt: '2026-02-01T00:00:00Z' }),
  ];
  assert.deepEqual(byActivity(cs).map((c) => c.conversationId), ['new', 'mid', 'old']);
});

test('merging an update never moves activity or lastSeq backwards', () => {
  const tests = [
    {
      name: 'newer update wins',
      old: conversation('a', { lastSeq: 3, lastMessage: 'three', lastMessageAt: '2026-01-03T00:00:00Z', name: 'x' }),
      update: conversation('a', { lastSeq: 4, lastMessage: 'four', lastMessageAt: '2026-01-04T00:00:00Z', name: 'y' }),
      want: { lastSeq: 4, lastMessage: 'four', name: 'y' },
    },
    {
      name: 'a late, older update keeps the newer preview but takes other fields',
      old: conversation('a', { lastSeq: 4, lastMessage: 'four', lastMessageAt: '2026-01-04T00:00:00Z', name: 'x' }),
      update: conversation('a', { lastSeq: 3, lastMessage: 'three', lastMessageAt: '2026-01-03T00:00:00Z', name: 'y', unreadCount: 2 }),
      want: { lastSeq: 4, lastMessage: 'four', name: 'y', unreadCount: 2 },
    },
    {
      name: 'first sight',
      old: undefined,
      update: conversation('a', { lastSeq: 1, lastMessage: 'one' }),
      want: { lastSeq: 1, lastMessage: 'one' },
    },
  ];
  for (const tt of tests) {
    const got = mergeConversation(tt.old && deepFreeze(tt.old), deepFreeze(tt.update));
    for (const [k, v] of Object.entries(tt.want)) assert.equal(got[k], v, `${tt.name}: ${k}`);
  }
});

test('a known message moves the preview on only if it is newer', () => {
  const c = deepFreeze(conversation('c1', { lastSeq: 5, lastMessage: 'five' }));
  assert.equal(bumpConversation(c, message('m5', 'five again', 5)), null);
  assert.equal(bumpConversation(c, message('m4', 'four', 4)), null);
  const got = bumpConversation(c, message('m6', 'six', 6, { createdAt: '2026-01-06T00:00:00Z' }));
  assert.deepEqual([got.lastSeq, got.lastMessage, got.lastMessageAt], [6, 'six', '2026-01-06T00:00:00Z']);
});

test('the preview is cut as the server cuts it, in code points', () => {
  assert.equal(preview('short'), 'short');
  const emoji = '🚲'.repeat(maxPreviewLength + 5); // two UTF-16 units each
  assert.equal([...preview(emoji)].length, maxPreviewLength);
  assert.equal(preview(emoji), '🚲'.repeat(maxPreviewLength));
  const c = conversation('c1');
  assert.equal(bumpConversation(c, message('m1', 'x'.repeat(300), 1)).lastMessage, 'x'.repeat(maxPreviewLength));
});

test('the list token: more pages move it on, a first-page reload keeps it', () => {
  const tests = [
    { more: true, current: 'p2', page: 'p3', want: 'p3' },
    { more: true, current: 'p2', page: null, want: null },
    { more: false, current: null, page: 'p2', want: 'p2' },
    { more: false, current: 'p3', page: 'p2', want: 'p3' }, // pages beyond the first stay loaded
    { more: false, current: 'p3', page: null, want: null }, // the list now fits in one page
  ];
  for (const tt of tests) assert.equal(nextListToken(tt.more, tt.current, tt.page), tt.want, JSON.stringify(tt));
});

test('the title counts unread messages outside the open conversation', () => {
  const cs = [conversation('a', { unreadCount: 2 }), conversation('b', { unreadCount: 5 }), conversation('c')];
  assert.equal(unreadElsewhere(cs, null), 7);
  assert.equal(unreadElsewhere(cs, 'b'), 2);
});
