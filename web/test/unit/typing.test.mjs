import { test } from 'node:test';
import assert from 'node:assert/strict';
import { activeTypists, applyTyping, nextExpiry, TypingSender, typingRefreshMs, typingShownMs, typingText } from '../../src/chat/typing.ts';

const ev = (userId, typing) => ({ conversationId: 'c1', userId, typing, at: '2026-01-01T00:00:00Z' });

test('a typist shows until they stop or their typing runs out', () => {
  let t = applyTyping(new Map(), ev('bob', true), 1000);
  t = applyTyping(t, ev('cleo', true), 2000);
  assert.deepEqual(activeTypists(t, 2500, 'me'), ['bob', 'cleo']);
  assert.equal(nextExpiry(t, 2500), 1000 + typingShownMs);
  assert.deepEqual(activeTypists(t, 1000 + typingShownMs, 'me'), ['cleo'], 'bob ran out');
  t = applyTyping(t, ev('cleo', false), 3000);
  assert.deepEqual(activeTypists(t, 3000, 'me'), ['bob']);
  assert.deepEqual(activeTypists(applyTyping(t, ev('me', true), 3000), 3000, 'me'), ['bob'], 'never myself');
  assert.equal(nextExpiry(new Map(), 0), null);
});

test('typing text names up to three, then counts', () => {
  assert.equal(typingText([]), '');
  assert.equal(typingText(['Bob']), 'Bob is typing…');
  assert.equal(typingText(['Bob', 'Cleo']), 'Bob and Cleo are typing…');
  assert.equal(typingText(['Bob', 'Cleo', 'Dan']), 'Bob, Cleo and Dan are typing…');
  assert.equal(typingText(['Bob', 'Cleo', 'Dan', 'Eve']), 'Bob, Cleo and 2 others are typing…');
});

test('our typing is sent on the first key, refreshed while it goes on, and stopped once', () => {
  let now = 0;
  const sent = [];
  const s = new TypingSender((t) => sent.push([now, t]), () => now);
  s.input('h');
  now = 500;
  s.input('he');
  now = typingRefreshMs;
  s.input('hel');
  now = typingRefreshMs + 10;
  s.input('');
  s.stop();
  s.input('   ');
  assert.deepEqual(sent, [
    [0, true],
    [typingRefreshMs, true],
    [typingRefreshMs + 10, false],
  ]);
  assert.ok(typingRefreshMs < typingShownMs, 'a refresh comes before the others stop showing us');
});
