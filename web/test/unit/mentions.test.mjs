import { test } from 'node:test';
import assert from 'node:assert/strict';
import { completeMention, findMentions, mentionCandidates, mentionQuery, mentionsIn, maxSuggestions } from '../../src/chat/mentions.ts';

const users = [
  { userId: 'u1', username: 'bob', displayName: 'Bob Stone' },
  { userId: 'u2', username: 'bob.smith', displayName: 'Robert Smith' },
  { userId: 'u3', username: 'cleo', displayName: 'Cleo Park' },
];

test('the mention being typed is found before the caret', () => {
  assert.deepEqual(mentionQuery('hi @bo', 6), { start: 3, query: 'bo' });
  assert.deepEqual(mentionQuery('@', 1), { start: 0, query: '' });
  assert.equal(mentionQuery('mail me@bob', 11), null, 'not inside a word');
  assert.equal(mentionQuery('hi @bob there', 13), null, 'the caret left it');
  assert.equal(mentionQuery('no mention', 10), null);
});

test('candidates match username or display name starts, closest first', () => {
  assert.deepEqual(mentionCandidates(users, 'bob').map((u) => u.username), ['bob', 'bob.smith']);
  assert.deepEqual(mentionCandidates(users, 'rob').map((u) => u.username), ['bob.smith'], 'display name word');
  assert.deepEqual(mentionCandidates(users, 'PARK').map((u) => u.username), ['cleo'], 'any case');
  assert.deepEqual(mentionCandidates(users, 'zed'), []);
  const many = Array.from({ length: 20 }, (_, i) => ({ userId: `x${i}`, username: `x${i}` }));
  assert.equal(mentionCandidates(many, '').length, maxSuggestions);
});

test('completing replaces the typed part and adds a space', () => {
  assert.deepEqual(completeMention('hi @bo', 3, 6, 'bob'), { text: 'hi @bob ', caret: 8 });
  assert.deepEqual(completeMention('hi @bo and more', 3, 6, 'bob'), { text: 'hi @bob and more', caret: 8 });
});

test('mentions found are members named after @, the longest name winning', () => {
  const text = 'ping @bob.smith and @bob. Also @cleo, not me@cleo or @nobody';
  assert.deepEqual(
    findMentions(text, users).map((s) => [text.slice(s.start, s.end), s.userId]),
    [
      ['@bob.smith', 'u2'],
      ['@bob', 'u1'],
      ['@cleo', 'u3'],
    ],
  );
  assert.deepEqual(mentionsIn('@cleo @cleo @bob', users), ['u3', 'u1'], 'once each');
  const crowd = Array.from({ length: 60 }, (_, i) => ({ userId: `u${i}`, username: `user${i}x` }));
  assert.equal(mentionsIn(crowd.map((u) => `@${u.username}`).join(' '), crowd).length, 50, 'at most maxMentions');
});
