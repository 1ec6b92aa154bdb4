import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Trays, draftKey } from '../../src/chat/attachments.ts';

// fakeFiles is a FileApi whose puts finish (or fail) when the test says:
// each upload waits in puts until then.
function fakeFiles() {
  let n = 0;
  const api = {
    puts: new Map(), // uploadId → { finish(), fail(message), aborted }
    sent: [],
    async createUpload(conversationId, file) {
      return { uploadId: `u${++n}-${conversationId}-${file.name}`, url: '/blob', method: 'PUT', headers: [] };
    },
    put(t, file, onProgress) {
      const p = { aborted: false };
      const done = new Promise((resolve, reject) => {
        p.finish = () => {
          onProgress(file.size);
          resolve();
        };
        p.fail = (message) => reject(new Error(message));
      });
      api.puts.set(t.uploadId, p);
      return {
        done,
        abort: () => {
          p.aborted = true;
          p.fail('Cancelled.');
        },
      };
    },
    async completeUpload(uploadId) {
      return { attachmentId: uploadId };
    },
    async sendMessage(input) {
      api.sent.push(input);
      return { messageId: `m${api.sent.length}`, ...input };
    },
    describe: (e) => e.message,
  };
  return api;
}

const file = (name) => new File(['bytes of ' + name], name, { type: 'text/plain' });

/** Resolves once pred() holds, checked after each change to d's tray. */
function until(trays, d, pred) {
  return new Promise((resolve) => {
    if (pred()) return resolve();
    const off = trays.listen(d, () => {
      if (pred()) {
        off();
        resolve();
      }
    });
  });
}

/** Adds files to d's tray and waits until each is being sent. */
async function attach(trays, d, ...names) {
  const tray = trays.get(d);
  tray.add(names.map(file));
  await until(trays, d, () => tray.items.every((it) => it.uploadId));
  return tray;
}

const main = { conversationId: 'c1' };
const thread = { conversationId: 'c1', parentMessageId: 'root1' };
const names = (tray) => tray.items.map((it) => `${it.file.name}:${it.status}`);

test('each draft has its own key: the conversation, each thread, each conversation', () => {
  const keys = [main, thread, { conversationId: 'c1', parentMessageId: 'root2' }, { conversationId: 'c2' }].map(draftKey);
  assert.equal(new Set(keys).size, 4);
  assert.equal(draftKey({ conversationId: 'c1', parentMessageId: undefined }), draftKey(main));
});

test('files attached in a thread stay in its tray: the conversation tray neither shows nor waits for them', async () => {
  const api = fakeFiles();
  const trays = new Trays(api);
  const t = await attach(trays, thread, 'reply.png');
  const m = trays.get(main);
  assert.deepEqual(names(t), ['reply.png:uploading']);
  assert.deepEqual(m.items, []);
  assert.equal(t.busy, true);
  assert.equal(m.busy, false, 'the main composer is not held up by an upload of the thread');
  assert.equal(trays.get({ ...thread }), t, 'the same draft gets the same tray back (kept while switching)');
  assert.deepEqual(trays.get({ conversationId: 'c1', parentMessageId: 'root2' }).items, [], 'another thread has its own');
});

test('a tray change tells its own draft only', async () => {
  const trays = new Trays(fakeFiles());
  const calls = { main: 0, thread: 0 };
  trays.listen(main, () => calls.main++);
  const off = trays.listen(thread, () => calls.thread++);
  await attach(trays, thread, 'a.txt');
  assert.equal(calls.main, 0);
  assert.ok(calls.thread > 0);
  off();
  const before = calls.thread;
  trays.get(thread).add([file('b.txt')]);
  assert.equal(calls.thread, before, 'a listener that stopped hears nothing');
});

test('a reply sends its own files, in its thread; the conversation keeps its files', async () => {
  const api = fakeFiles();
  const trays = new Trays(api);
  const m = await attach(trays, main, 'main.pdf');
  const t = await attach(trays, thread, 'reply.png', 'notes.txt');
  for (const id of t.items.map((it) => it.uploadId)) api.puts.get(id).finish();
  await until(trays, thread, () => t.ready.length === 2);

  const replyFiles = t.ready;
  assert.deepEqual(replyFiles.map((id) => id.split('-').pop()), ['reply.png', 'notes.txt']);
  await t.send('see these @bob', true, ['u-bob']);
  assert.deepEqual(api.sent, [
    { conversationId: 'c1', content: 'see these @bob', attachments: replyFiles, parentMessageId: 'root1', alsoInConversation: true, mentions: ['u-bob'] },
  ]);
  assert.deepEqual(t.items, [], 'the thread tray emptied');
  assert.deepEqual(names(m), ['main.pdf:uploading'], 'the conversation tray still has its file');

  api.puts.get(m.items[0].uploadId).finish();
  await until(trays, main, () => m.ready.length === 1);
  const mainFiles = m.ready;
  await m.send('');
  assert.deepEqual(api.sent[1], { conversationId: 'c1', content: '', attachments: mainFiles });
});

test('cancel and retry act on the thread tray only', async () => {
  const api = fakeFiles();
  const trays = new Trays(api);
  const m = await attach(trays, main, 'keep.txt');
  const t = await attach(trays, thread, 'cancel.txt', 'fail.txt');
  const [cancel, fail] = t.items;

  t.remove(cancel.key);
  assert.equal(api.puts.get(cancel.uploadId).aborted, true, 'cancelling stops the upload');
  assert.deepEqual(names(t), ['fail.txt:uploading']);

  api.puts.get(fail.uploadId).fail('The upload failed: check your connection.');
  await until(trays, thread, () => t.items[0].status === 'failed');
  assert.equal(t.items[0].error, 'The upload failed: check your connection.');
  assert.equal(t.busy, false);
  assert.equal(t.ready.length, 0, 'a failed file is not sent');

  t.retry(fail.key);
  await until(trays, thread, () => t.items[0].uploadId && t.items[0].uploadId !== fail.uploadId);
  api.puts.get(t.items[0].uploadId).finish();
  await until(trays, thread, () => t.items[0].status === 'done');
  assert.deepEqual(names(t), ['fail.txt:done']);
  assert.deepEqual(names(m), ['keep.txt:uploading'], 'the conversation tray was never touched');
  assert.equal(api.puts.get(m.items[0].uploadId).aborted, false);
});
