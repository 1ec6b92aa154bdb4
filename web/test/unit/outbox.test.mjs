import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyOutbox, enqueue, settle, fail, retry, discard, noteEarly, visible, isEmpty, Outboxes } from '../../src/chat/outbox.ts';
import { message, deepFreeze } from './fixtures.mjs';

const entry = (clientToken, content) => ({ clientToken, content, createdAt: '2026-01-01T00:00:00Z', status: 'sending' });
const shown = (o) => visible(o).map((p) => `${p.clientToken}:${p.status}`);

test('an answer settles its own entry only', () => {
  let o = enqueue(enqueue(emptyOutbox, entry('a', 'hi')), entry('b', 'hi'));
  o = settle(o, 'b', message('mb', 'hi'));
  assert.deepEqual(shown(o), ['a:sending']);
});

test('the stream bringing one of two identical texts early does not detach the other: its failure is shown', () => {
  // a and b both "hi"; b reaches the server first and its copy comes back
  // on the stream before either send answers; then b answers and a fails.
  let o = enqueue(enqueue(emptyOutbox, entry('a', 'hi')), entry('b', 'hi'));
  o = noteEarly(o, message('mb', 'hi'));
  assert.equal(visible(o).length, 1, 'the early copy hides one entry still sending');
  o = settle(o, 'b', message('mb', 'hi'));
  assert.deepEqual(shown(o), ['a:sending']);
  o = fail(o, 'a', 'offline');
  assert.deepEqual(shown(o), ['a:failed']);
  assert.equal(visible(o)[0].error, 'offline');
});

test('a failure is shown even while an early copy of the same text is unclaimed', () => {
  let o = enqueue(enqueue(emptyOutbox, entry('a', 'hi')), entry('b', 'hi'));
  o = noteEarly(o, message('mb', 'hi'));
  o = fail(o, 'a', 'offline');
  // b is still sending and hidden by its early copy; a's failure shows.
  assert.deepEqual(shown(o), ['a:failed']);
  o = settle(o, 'b', message('mb', 'hi'));
  assert.deepEqual(shown(o), ['a:failed']);
  assert.equal(o.early.length, 0);
});

test('early copies are bounded by the entries still sending, per text', () => {
  let o = enqueue(emptyOutbox, entry('a', 'hi'));
  o = noteEarly(o, message('m1', 'hi', 1));
  o = noteEarly(o, message('m2', 'hi', 2)); // e.g. the same text from another tab
  o = noteEarly(o, message('m3', 'other', 3));
  o = noteEarly(o, message('m1', 'hi', 1));
  assert.deepEqual(o.early.map((m) => m.messageId), ['m1']);
  o = fail(o, 'a', 'x');
  assert.equal(o.early.length, 0, 'nothing sending: nothing early kept');
});

test('many sends leave nothing behind once answered', () => {
  let o = emptyOutbox;
  for (let i = 0; i < 1000; i++) {
    o = enqueue(o, entry(`t${i}`, 'same'));
    o = noteEarly(o, message(`m${i}`, 'same', i + 1));
    o = settle(o, `t${i}`, message(`m${i}`, 'same', i + 1));
  }
  assert.ok(isEmpty(o));
});

test('an answer after an early copy from elsewhere drops that copy too', () => {
  let o = enqueue(emptyOutbox, entry('a', 'hi'));
  o = noteEarly(o, message('other-tab', 'hi'));
  o = settle(o, 'a', message('ma', 'hi'));
  assert.ok(isEmpty(o));
});

test('retry and discard act on failed entries only', () => {
  let o = enqueue(enqueue(emptyOutbox, entry('a', 'hi')), entry('b', 'yo'));
  o = discard(o, 'a');
  assert.deepEqual(shown(o), ['a:sending', 'b:sending'], 'a sending entry cannot be discarded');
  o = fail(o, 'a', 'offline');
  o = retry(o, 'b');
  assert.deepEqual(shown(o), ['a:failed', 'b:sending']);
  o = retry(o, 'a');
  assert.deepEqual(shown(o), ['a:sending', 'b:sending']);
  assert.equal(visible(o)[0].error, undefined);
  o = discard(fail(o, 'a', 'again'), 'a');
  assert.deepEqual(shown(o), ['b:sending']);
});

test('functions do not change their argument', () => {
  const o = deepFreeze(noteEarly(enqueue(emptyOutbox, entry('a', 'hi')), message('mx', 'hi')));
  retry(o, 'a');
  discard(o, 'a');
  settle(o, 'a', message('ma', 'hi'));
  fail(o, 'a', 'x');
  noteEarly(o, message('ma', 'hi'));
  enqueue(o, entry('b', 'hi'));
  assert.equal(o.pending.length, 1);
});

/** Outboxes with a send that waits until the test answers it. */
function harness() {
  const sends = [];
  const answered = [];
  let changes = 0;
  const boxes = new Outboxes({
    send: (conversationId, p) =>
      new Promise((resolve, reject) => sends.push({ conversationId, p, resolve, reject })),
    answered: (m) => answered.push(m.messageId),
    changed: () => changes++,
    describe: (e) => e.message,
  });
  // Resolves after the promise reactions queued so far (the sends' awaits) have run:
  // a macrotask starts only once the microtask queue is empty.
  const settled = () => new Promise((r) => setImmediate(r));
  return { boxes, sends, answered, settled, changes: () => changes };
}

test('Outboxes: two identical texts in flight, the second echoed and answered first, the first failing: the failure is shown', async () => {
  const h = harness();
  h.boxes.send('c1', 'same text');
  h.boxes.send('c1', 'same text');
  assert.equal(h.sends.length, 2);
  const [first, second] = h.sends;
  assert.notEqual(first.p.clientToken, second.p.clientToken);

  h.boxes.noteEarly('c1', message('m2', 'same text', 2)); // the second, from the stream
  assert.equal(h.boxes.visible('c1').length, 1);
  second.resolve(message('m2', 'same text', 2));
  await h.settled();
  first.reject(new Error('offline'));
  await h.settled();

  const shown = h.boxes.visible('c1');
  assert.deepEqual(
    shown.map((p) => [p.clientToken, p.status, p.error]),
    [[first.p.clientToken, 'failed', 'offline']],
  );
  assert.deepEqual(h.answered, ['m2']);

  h.boxes.retry('c1', first.p.clientToken);
  assert.equal(h.sends.length, 3);
  assert.equal(h.sends[2].p.clientToken, first.p.clientToken, 'a retry reuses the clientToken');
  h.sends[2].resolve(message('m1', 'same text', 3));
  await h.settled();
  assert.deepEqual(h.boxes.visible('c1'), []);
  assert.deepEqual(h.answered, ['m2', 'm1']);
});

test('Outboxes: conversations are apart, and an answer after close changes nothing', async () => {
  const h = harness();
  h.boxes.send('c1', 'to one');
  h.boxes.send('c2', 'to two');
  assert.deepEqual(h.boxes.visible('c1').map((p) => p.content), ['to one']);
  assert.deepEqual(h.boxes.visible('c2').map((p) => p.content), ['to two']);
  h.boxes.close();
  const before = h.changes();
  h.sends[0].resolve(message('m1', 'to one'));
  h.sends[1].reject(new Error('x'));
  await h.settled();
  assert.equal(h.changes(), before);
  assert.deepEqual(h.answered, []);
});
