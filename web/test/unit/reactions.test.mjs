import { test } from 'node:test';
import assert from 'node:assert/strict';
import { togglesOn, withReaction } from '../../src/chat/reactions.ts';
import { message, deepFreeze } from './fixtures.mjs';

const m = deepFreeze(
  message('m1', 'hi', 1, {
    reactions: [
      { key: '👍', count: 2, reactedByMe: true, userIds: ['you', 'me'] },
      { key: '🎉', count: 1, reactedByMe: false, userIds: ['you'] },
    ],
  }),
);
const summary = (x) => x.reactions.map((r) => `${r.key}${r.count}${r.reactedByMe ? '*' : ''}`).join(' ');

test('a toggle takes back our own reaction and adds any other', () => {
  assert.equal(togglesOn(m, '👍'), false);
  assert.equal(togglesOn(m, '🎉'), true);
  assert.equal(togglesOn(message('m2', 'x'), '👍'), true, 'no reactions yet');
});

test('our reaction shows at once: counts move, empty keys go, new keys come last', () => {
  assert.equal(summary(withReaction(m, '🎉', true, 'me')), '👍2* 🎉2*');
  assert.equal(summary(withReaction(m, '👍', false, 'me')), '👍1 🎉1');
  assert.equal(summary(withReaction(m, '❤️', true, 'me')), '👍2* 🎉1 ❤️1*');
  assert.equal(summary(withReaction(withReaction(m, '🎉', true, 'me'), '🎉', false, 'me')), '👍2* 🎉1');
  const solo = withReaction(message('m2', 'x'), '👀', true, 'me');
  assert.equal(summary(withReaction(solo, '👀', false, 'me')), '');
  assert.equal(withReaction(m, '👍', true, 'me'), m, 'adding twice is one reaction');
  assert.equal(withReaction(m, '🎉', false, 'me'), m, 'nothing to take back');
});
