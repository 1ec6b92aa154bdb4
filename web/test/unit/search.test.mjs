import { test } from 'node:test';
import assert from 'node:assert/strict';
import { searchTermNote, searchTermProblem, searchWords, withoutResult } from '../../src/chat/search.ts';
import { maxSearchTermBytes, maxSearchWords } from '../../src/limits.ts';
import { message } from './fixtures.mjs';

test('search words are runs of letters, digits and marks, as the server cuts them', () => {
  const tests = [
    { term: 'apple pie', want: ['apple', 'pie'] },
    { term: '"apple" AND pie*', want: ['apple', 'AND', 'pie'] },
    { term: 'café 42, naïve-ish', want: ['café', '42', 'naïve', 'ish'] },
    { term: '!!! ???', want: [] },
  ];
  for (const tt of tests) assert.deepEqual(searchWords(tt.term), tt.want, tt.term);
});

test('a term over the byte limit is refused before asking, counted in UTF-8', () => {
  assert.equal(searchTermProblem('a'.repeat(maxSearchTermBytes)), null);
  assert.match(searchTermProblem('a'.repeat(maxSearchTermBytes + 1)), /longer than 256 bytes/);
  // 86 × "é" is 172 bytes; 129 × "é" is 258 bytes though only 129 characters
  assert.equal(searchTermProblem('é'.repeat(86)), null);
  assert.notEqual(searchTermProblem('é'.repeat(129)), null);
  assert.notEqual(searchTermProblem(''), null);
});

test('a term with more words than the server uses says so', () => {
  const words = (n) => Array.from({ length: n }, (_, i) => `w${i}`).join(' ');
  assert.equal(searchTermNote(words(maxSearchWords)), null);
  assert.match(searchTermNote(words(maxSearchWords + 2)), /first 16 of 18 words/);
});

test('a deleted message leaves the results', () => {
  assert.deepEqual(withoutResult([message('a', 'x'), message('b', 'y')], 'a').map((m) => m.messageId), ['b']);
  assert.equal(withoutResult(null, 'a'), null);
});
