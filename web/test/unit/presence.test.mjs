import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maxPresenceSubscriptions, mergeUser, presenceTargets } from '../../src/chat/presence.ts';
import { conversation } from './fixtures.mjs';

const day = (d) => `2026-01-${String(d).padStart(2, '0')}T00:00:00Z`;

test('presence follows the most recently active conversations, and the open one', () => {
  const cs = new Map(
    [1, 2, 3, 4].map((d) => [`c${d}`, conversation(`c${d}`, { lastMessageAt: day(d) })]),
  );
  assert.deepEqual(presenceTargets(cs, null, 2), ['c4', 'c3']);
  assert.deepEqual(presenceTargets(cs, 'c1', 2), ['c4', 'c3', 'c1']);
  assert.deepEqual(presenceTargets(cs, 'c3', 2), ['c4', 'c3']);
  assert.deepEqual(presenceTargets(cs, 'unknown', 2), ['c4', 'c3']);
});

test('presence subscriptions stay within the bound', () => {
  const cs = new Map(Array.from({ length: 60 }, (_, i) => [`c${i}`, conversation(`c${i}`)]));
  assert.equal(presenceTargets(cs, null).length, maxPresenceSubscriptions);
  assert.ok(maxPresenceSubscriptions + 1 < 100, 'room under the server 100 subscriptions per connection');
});

test('a user update keeps what it does not carry', () => {
  const old = { userId: 'u', username: 'ann', email: 'ann@example.test', isOnline: false };
  assert.deepEqual(mergeUser(old, { userId: 'u', username: 'ann', isOnline: true }), {
    userId: 'u',
    username: 'ann',
    email: 'ann@example.test',
    isOnline: true,
  });
});
