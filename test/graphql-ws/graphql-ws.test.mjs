// The npm graphql-ws client (what Apollo and urql wrap) against the real
// confab binary on a loopback port: connect with a token, subscribe, receive
// messages sent concurrently over POST /graphql in seq order, resume with
// afterSeq after a reconnect, and get a clean refusal for a bad token.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const root = join(import.meta.dirname, '..', '..');
let proc, base, dir;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'confab-gqlws-'));
  const bin = join(dir, 'confab');
  execFileSync('go', ['build', '-o', bin, './cmd/confab'], { cwd: root, stdio: 'inherit' });
  const port = await freePort();
  base = `127.0.0.1:${port}`;
  proc = spawn(bin, ['serve', '--http', base, '--data', join(dir, 'data'), '--log-level', 'error'], { stdio: 'inherit' });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`http://${base}/healthz`)).ok) break;
    } catch {}
    if (Date.now() > deadline) throw new Error('confab did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
});

after(() => {
  proc?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

let userSeq = 0;
async function account(name) {
  const email = `${name}${++userSeq}-${Date.now()}@example.com`;
  const post = (path, body) => fetch(`http://${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal((await post('/auth/signup', { email, password: 'Passw0rd!x' })).status, 200);
  const tokens = await (await post('/auth/login', { email, password: 'Passw0rd!x' })).json();
  const sub = JSON.parse(Buffer.from(tokens.idToken.split('.')[1], 'base64url')).sub;
  return { token: tokens.idToken, id: sub };
}

async function gql(token, query, variables) {
  const res = await fetch(`http://${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: token }, body: JSON.stringify({ query, variables }) });
  const body = await res.json();
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data;
}

function client(token) {
  return createClient({ url: `ws://${base}/graphql`, webSocketImpl: WebSocket, connectionParams: { Authorization: token }, retryAttempts: 0, lazy: false });
}

const SUB = 'subscription($c: ID!, $a: Int) { onMessageSent(conversationId: $c, afterSeq: $a) { seq content } }';
const SEND = 'mutation($c: ID!, $t: String!) { sendMessage(input: { conversationId: $c, content: $t }) { seq } }';

// collect resolves with the first n messages of a subscription.
function collect(c, variables, n) {
  return new Promise((resolve, reject) => {
    const got = [];
    const timer = setTimeout(() => reject(new Error(`only ${got.length} of ${n} messages`)), 15_000);
    const stop = c.subscribe({ query: SUB, variables }, {
      next: (r) => {
        if (r.errors) return reject(new Error(JSON.stringify(r.errors)));
        got.push(r.data.onMessageSent);
        if (got.length === n) { clearTimeout(timer); stop(); resolve(got); }
      },
      error: (e) => { clearTimeout(timer); reject(e instanceof Error ? e : new Error(JSON.stringify(e))); },
      complete: () => {},
    });
  });
}

test('graphql-ws receives concurrent sends in seq order and resumes with afterSeq', async () => {
  const alice = await account('alice');
  const bob = await account('bob');
  const { createConversation } = await gql(alice.token, 'mutation($p: [ID!]!) { createConversation(input: { participants: $p }) { conversationId } }', { p: [bob.id] });
  const c = createConversation.conversationId;

  const ws = client(bob.token);
  // afterSeq 0: everything from the start, so the subscription cannot miss
  // sends that race with its activation.
  const receiving = collect(ws, { c, a: 0 }, 20);
  await Promise.all(Array.from({ length: 4 }, (_, s) => (async () => {
    for (let i = 0; i < 5; i++) await gql(alice.token, SEND, { c, t: `${s}-${i}` });
  })()));
  const got = await receiving;
  assert.deepEqual(got.map((m) => m.seq), Array.from({ length: 20 }, (_, i) => i + 1));
  await ws.dispose();

  // Away: three more. A new client resumes after seq 20.
  for (let i = 0; i < 3; i++) await gql(alice.token, SEND, { c, t: `away ${i}` });
  const again = client(bob.token);
  const resumed = await collect(again, { c, a: 20 }, 3);
  assert.deepEqual(resumed.map((m) => [m.seq, m.content]), [[21, 'away 0'], [22, 'away 1'], [23, 'away 2']]);
  await again.dispose();
});

test('graphql-ws with a bad token is refused with 4403', async () => {
  const closed = new Promise((resolve) => {
    const c = createClient({ url: `ws://${base}/graphql`, webSocketImpl: WebSocket, connectionParams: { Authorization: 'forged' }, retryAttempts: 0, lazy: false, on: { closed: (e) => resolve(e.code) } });
    c.subscribe({ query: '{ __typename }' }, { next() {}, error() {}, complete() {} });
  });
  assert.equal(await closed, 4403);
});
