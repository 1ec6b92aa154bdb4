// End-to-end tests: the real confab binary, the built client, system Chromium.
// Run with `npm test` (builds the client first).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer,
  launchBrowser,
  newUser,
  newPage,
  signUpUI,
  signInUI,
  sendUI,
  composer,
  shownMessages,
  expectMessagesEndWith,
  eventually,
  screenshot,
  apiSignUp,
  apiCreateConversation,
  apiSend,
  apiLogin,
  gql,
  cleanup,
} from './harness.mjs';

let server;
let browser;
const contexts = [];

before(
  async () => {
    server = await startServer();
    browser = await launchBrowser();
  },
  { timeout: 600_000 },
);

after(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await server?.stop();
  await cleanup();
});

async function page(opts) {
  const p = await newPage(browser, server.url, opts);
  contexts.push(p.context);
  return p;
}

/** Two users made through the API, a conversation between them, and A
 *  signed in in a browser with that conversation open. */
async function pairWithConversation(opts = {}) {
  const a = await apiSignUp(server.url, newUser('alice'));
  const b = await apiSignUp(server.url, newUser('bob'));
  const conversationId = await apiCreateConversation(server.url, a, [b.userId], opts.name ?? null);
  const seed = opts.seed ?? [];
  for (let i = 0; i < seed.length; i++) {
    const from = opts.seedFrom === 'alternate' ? (i % 2 ? a : b) : b;
    await apiSend(server.url, from, conversationId, seed[i]);
  }
  const { context, page: pa } = await page(opts.context);
  if (opts.init) await context.addInitScript(opts.init);
  if (opts.setup) await opts.setup(context);
  await signInUI(pa, a.username);
  await pa.goto(`/c/${conversationId}`);
  await connected(pa);
  return { a, b, conversationId, context, pa };
}

async function connected(p) {
  await p.locator('.app[data-conn="connected"]').waitFor({ timeout: 15_000 });
}

test('bad sign-in shows an error', async () => {
  const { page: p } = await page();
  await p.goto('/');
  await p.getByRole('heading', { name: 'Sign in' }).waitFor();
  await screenshot(p, '01-sign-in');

  await p.getByLabel('Email or username').fill('nobody@example.test');
  await p.getByLabel('Password', { exact: true }).fill('Wrong-pass1');
  await p.getByRole('button', { name: 'Sign in' }).click();
  const alert = p.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.innerText(), /wrong email, username or password/i);
  await screenshot(p, '02-sign-in-error');

  // A real account with the wrong password says the same, and stays signed out.
  const u = await apiSignUp(server.url, newUser('carol'));
  await p.getByLabel('Email or username').fill(u.email);
  await p.getByLabel('Password', { exact: true }).fill('Wrong-pass2');
  await p.getByRole('button', { name: 'Sign in' }).click();
  await eventually(async () => /wrong email/i.test(await p.getByRole('alert').innerText()), { message: 'error' });
  assert.equal(await p.getByRole('navigation', { name: 'Conversation list' }).count(), 0);

  // The sign-up form checks the password policy before asking the server.
  await p.getByRole('button', { name: 'Create an account' }).click();
  await p.getByLabel('Email', { exact: true }).fill('weak@example.test');
  await p.getByLabel('Password', { exact: true }).fill('short');
  await p.getByRole('button', { name: 'Create account' }).click();
  assert.match(await p.getByRole('alert').innerText(), /at least 8 characters/i);
});

test('two users sign up, start a conversation and chat live, in order; presence follows the page', async () => {
  const ua = newUser('alice');
  const ub = newUser('bob');
  const { page: pa } = await page();
  const { page: pb } = await page();
  await signUpUI(pa, ua);
  await signUpUI(pb, ub);

  // Alice finds Bob by exact username (a wrong name is reported) and creates the conversation.
  await pa.getByRole('button', { name: 'New conversation' }).first().click();
  const dialog = pa.getByRole('dialog', { name: 'New conversation' });
  await dialog.getByLabel('Add people').fill(`${ub.username}-nope`);
  await dialog.getByLabel('Add people').press('Enter');
  assert.match(await dialog.getByRole('alert').innerText(), /no one has the username or email/i);
  await dialog.getByLabel('Add people').fill(ub.username);
  await dialog.getByLabel('Add people').press('Enter');
  await dialog.getByRole('list', { name: 'Participants' }).getByText(ub.displayName).waitFor();
  await dialog.getByLabel(/^Name/).fill('Lunch plans');
  await screenshot(pa, '04-new-conversation');
  await dialog.getByRole('button', { name: 'Create' }).click();
  await pa.waitForURL(/\/c\/[^/]+$/);
  await connected(pa);

  await sendUI(pa, 'Hello from Alice');
  await expectMessagesEndWith(pa, ['Hello from Alice']);

  // Bob's list gets the conversation live, with the preview and an unread count.
  const bobItem = pb.locator('a.conv', { hasText: 'Lunch plans' });
  await bobItem.waitFor();
  await eventually(async () => (await bobItem.innerText()).includes('Hello from Alice'), { message: 'preview on Bob side' });
  assert.match(await bobItem.locator('.badge').innerText(), /^1$/);
  await bobItem.click();
  await connected(pb);
  await expectMessagesEndWith(pb, ['Hello from Alice']);
  await eventually(async () => (await bobItem.locator('.badge').count()) === 0, { message: 'unread cleared' });

  await sendUI(pb, 'Hi Alice!');
  await expectMessagesEndWith(pa, ['Hello from Alice', 'Hi Alice!']);

  // Shift+Enter makes a new line; Enter sends.
  const box = composer(pa);
  await box.click();
  await box.pressSequentially('line one');
  await box.press('Shift+Enter');
  await box.pressSequentially('line two');
  await box.press('Enter');
  await expectMessagesEndWith(pb, ['Hello from Alice', 'Hi Alice!', 'line one\nline two']);
  assert.equal(await box.inputValue(), '');

  // A burst from both sides arrives everywhere in one and the same order.
  for (let i = 1; i <= 5; i++) {
    await sendUI(pa, `A${i}`);
    await sendUI(pb, `B${i}`);
  }
  const all = await eventually(
    async () => {
      const x = await shownMessages(pa);
      const y = await shownMessages(pb);
      return x.length === 13 && y.length === 13 && JSON.stringify(x) === JSON.stringify(y) && x;
    },
    { message: 'both sides to show the same 13 messages' },
  );
  const order = (p) => all.filter((t) => t.startsWith(p));
  assert.deepEqual(order('A'), ['A1', 'A2', 'A3', 'A4', 'A5']);
  assert.deepEqual(order('B'), ['B1', 'B2', 'B3', 'B4', 'B5']);
  assert.equal(await pa.locator('[data-pending]').count(), 0);
  await screenshot(pa, '03-conversation-desktop');

  // Presence: Alice sees Bob online, then not once his page is gone.
  const sub = pa.locator('.thread-sub');
  await eventually(async () => (await sub.innerText()) === 'online', { message: 'Bob online' });
  await pb.close();
  await eventually(async () => /last seen|offline/.test(await sub.innerText()), { timeout: 20_000, message: 'Bob offline' });
  assert.equal(await pa.locator('a.conv .dot-on').count(), 0);
});

test('older history loads on scroll-up', async () => {
  const seed = Array.from({ length: 75 }, (_, i) => `history ${String(i + 1).padStart(3, '0')}`);
  // alternating authors, as in a real exchange
  const { pa } = await pairWithConversation({ seed, seedFrom: 'alternate' });
  await expectMessagesEndWith(pa, ['history 074', 'history 075']);
  const first = await shownMessages(pa);
  assert.ok(first.length < 75, `expected a first page, got ${first.length} messages`);
  assert.ok(!first.includes('history 001'));

  const scroller = pa.locator('.messages');
  await eventually(
    async () => {
      await scroller.evaluate((el) => (el.scrollTop = 0));
      return (await shownMessages(pa)).includes('history 001');
    },
    { timeout: 30_000, interval: 300, message: 'the oldest message after scrolling up' },
  );
  assert.deepEqual(await shownMessages(pa), seed);
  await pa.getByText('This is the beginning of the conversation.').waitFor();
});

test('messages sent while the browser was offline arrive after reconnect (resume)', async () => {
  const { pa, context, b, conversationId } = await pairWithConversation({ seed: ['before the drop'] });
  await expectMessagesEndWith(pa, ['before the drop']);
  await pa.evaluate(() => ((window).__noReload = true));

  await context.setOffline(true);
  await pa.getByText("You're offline").waitFor();
  await screenshot(pa, '07-offline');
  for (let i = 1; i <= 3; i++) await apiSend(server.url, b, conversationId, `while offline ${i}`);
  await new Promise((r) => setTimeout(r, 1500));
  await context.setOffline(false);

  await expectMessagesEndWith(pa, ['before the drop', 'while offline 1', 'while offline 2', 'while offline 3'], 30_000);
  await connected(pa);
  assert.equal(await pa.evaluate(() => (window).__noReload), true, 'the page must not have reloaded');
  await eventually(async () => (await pa.locator('.banner').innerText()) === '', { message: 'banner gone' });

  // and live delivery goes on
  await apiSend(server.url, b, conversationId, 'after reconnect');
  await expectMessagesEndWith(pa, ['while offline 3', 'after reconnect']);
});

/** Page init script: keeps every WebSocket the page opens in window.__sockets. */
function trackSockets() {
  const Native = window.WebSocket;
  window.__sockets = [];
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      window.__sockets.push(this);
    }
  };
}

test('a message sent while the socket was cut arrives after reconnect (resume)', async () => {
  const { pa, b, conversationId } = await pairWithConversation({ seed: ['one'], init: trackSockets });
  await expectMessagesEndWith(pa, ['one']);

  await pa.evaluate(() => window.__sockets.forEach((s) => s.close()));
  await apiSend(server.url, b, conversationId, 'two (socket down)');
  await apiSend(server.url, b, conversationId, 'three (socket down)');
  await expectMessagesEndWith(pa, ['one', 'two (socket down)', 'three (socket down)'], 30_000);
  const n = await pa.evaluate(() => window.__sockets.length);
  assert.ok(n >= 2, `expected a new socket, saw ${n}`);
  const texts = await shownMessages(pa);
  assert.equal(new Set(texts).size, texts.length, 'no duplicates');
});

test('a send that fails offline can be retried and is delivered once', async () => {
  const { pa, context, a, conversationId } = await pairWithConversation();
  await context.setOffline(true);
  await pa.getByText("You're offline").waitFor();
  await sendUI(pa, 'retry me');
  await pa.locator('[data-pending="failed"]').waitFor();
  await pa.getByRole('button', { name: 'Retry' }).waitFor();
  await screenshot(pa, '08-send-failed');
  await context.setOffline(false);
  await connected(pa);
  await pa.getByRole('button', { name: 'Retry' }).click();
  await expectMessagesEndWith(pa, ['retry me']);
  assert.equal(await pa.locator('[data-pending]').count(), 0);
  const d = await gql(server.url, a, `query($c: ID!) { listMessages(conversationId: $c, limit: 10) { items { content } } }`, {
    c: conversationId,
  });
  assert.deepEqual(
    d.listMessages.items.map((m) => m.content),
    ['retry me'],
  );
});

test('deleting an own message removes it for everyone', async () => {
  const { b, conversationId, pa } = await pairWithConversation();
  const { page: pb } = await page();
  await signInUI(pb, b.email);
  await pb.goto(`/c/${conversationId}`);
  await connected(pb);
  await sendUI(pa, 'keep me');
  await sendUI(pa, 'delete me');
  await expectMessagesEndWith(pb, ['keep me', 'delete me']);

  const msg = pa.locator('li.msg', { hasText: 'delete me' });
  await msg.hover();
  await msg.getByRole('button', { name: 'Delete message' }).click();
  await msg.getByRole('group', { name: 'Confirm delete' }).getByRole('button', { name: 'Delete' }).click();
  await eventually(async () => JSON.stringify(await shownMessages(pa)) === '["keep me"]', { message: 'deleted on Alice side' });
  await eventually(async () => JSON.stringify(await shownMessages(pb)) === '["keep me"]', { message: 'deleted on Bob side' });
  // Bob has no delete button for Alice's message
  assert.equal(await pb.getByRole('button', { name: 'Delete message' }).count(), 0);
});

test('search within a conversation finds and shows messages', async () => {
  const seed = ['apple pie recipe', 'banana split', 'the apple tart was great', 'cherry'];
  for (let i = 0; i < 40; i++) seed.push(`filler ${i}`);
  const { pa } = await pairWithConversation({ seed });
  await expectMessagesEndWith(pa, ['filler 39']);
  await pa.getByRole('button', { name: 'Search in this conversation' }).click();
  const search = pa.getByRole('search');
  await search.getByLabel('Search messages').fill('apple');
  await search.getByLabel('Search messages').press('Enter');
  const hits = search.locator('.search-hit');
  await eventually(async () => (await hits.count()) === 2, { message: '2 search hits' });
  const texts = await hits.locator('.search-hit-text').allInnerTexts();
  assert.deepEqual(texts, ['the apple tart was great', 'apple pie recipe']);
  await screenshot(pa, '09-search');
  // Opening the oldest hit loads history back to it and highlights it.
  await hits.nth(1).click();
  await pa.locator('li.msg.highlight', { hasText: 'apple pie recipe' }).waitFor();

  await search.getByLabel('Search messages').fill('zebra');
  await search.getByLabel('Search messages').press('Enter');
  await search.getByText('No messages match').waitFor();

  // The server's limits, told before or with the answer: words beyond the
  // 16th are not searched; a term over 256 bytes (not characters) is refused.
  const many = Array.from({ length: 18 }, (_, i) => `w${i}`).join(' ');
  await search.getByLabel('Search messages').fill(many);
  await search.getByLabel('Search messages').press('Enter');
  await search.getByText('Only the first 16 of 18 words are searched.').waitFor();
  await search.getByLabel('Search messages').fill('é'.repeat(129));
  await search.getByLabel('Search messages').press('Enter');
  assert.match(await search.getByRole('alert').innerText(), /longer than 256 bytes/);
});

test('the list orders by latest activity and counts unread, live', async () => {
  const a = await apiSignUp(server.url, newUser('alice'));
  const b = await apiSignUp(server.url, newUser('bob'));
  const c = await apiSignUp(server.url, newUser('cleo'));
  const older = await apiCreateConversation(server.url, b, [a.userId], 'Older chat');
  await apiSend(server.url, b, older, 'old news');
  const newer = await apiCreateConversation(server.url, c, [a.userId], 'Newer chat');
  await apiSend(server.url, c, newer, 'fresh news');

  const { page: pa } = await page();
  await signInUI(pa, a.username);
  await connected(pa);
  const names = () => pa.locator('a.conv .conv-name').allInnerTexts();
  await eventually(async () => JSON.stringify(await names()) === '["Newer chat","Older chat"]', { message: 'initial order' });

  await apiSend(server.url, b, older, 'older is now newest');
  await apiSend(server.url, b, older, 'and again');
  await eventually(async () => JSON.stringify(await names()) === '["Older chat","Newer chat"]', { message: 'reordered' });
  const item = pa.locator('a.conv', { hasText: 'Older chat' });
  await eventually(async () => (await item.innerText()).includes('and again'), { message: 'preview' });
  await eventually(async () => (await item.locator('.badge').innerText().catch(() => '')) === '3', { message: 'unread 3' });
  await screenshot(pa, '10-conversation-list');
});

test('phone width: list and conversation are separate screens', async () => {
  const a = await apiSignUp(server.url, newUser('alice'));
  const b = await apiSignUp(server.url, newUser('bob'));
  const id = await apiCreateConversation(server.url, b, [a.userId]);
  for (const t of ['Are you coming tonight?', 'Yes! What time?', 'Seven, at the usual place.']) {
    await apiSend(server.url, t.startsWith('Yes') ? a : b, id, t);
  }
  const { page: p } = await page({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await signInUI(p, a.email);
  await connected(p);
  const item = p.locator('a.conv').first();
  await item.waitFor();
  await eventually(async () => (await item.innerText()).includes('Seven, at the usual place.'), { message: 'preview' });
  await screenshot(p, '05-phone-list');
  await item.click();
  await expectMessagesEndWith(p, ['Seven, at the usual place.']);
  assert.equal(await p.getByRole('navigation', { name: 'Conversation list' }).isVisible(), false);
  await sendUI(p, 'On my way 🚲');
  await expectMessagesEndWith(p, ['On my way 🚲']);
  await screenshot(p, '06-phone-conversation');
  await p.getByRole('link', { name: 'Back to conversations' }).click();
  await p.getByRole('navigation', { name: 'Conversation list' }).waitFor({ state: 'visible' });
});

test('sign out returns to sign-in and forgets the session', async () => {
  const u = await apiSignUp(server.url, newUser('dave'));
  const { page: p } = await page();
  await signInUI(p, u.username);
  await p.getByRole('button', { name: 'Sign out' }).click();
  await p.getByRole('heading', { name: 'Sign in' }).waitFor();
  await p.reload();
  await p.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.equal(await p.evaluate(() => localStorage.getItem('confab.session.v1')), null);
});

test('tokens are refreshed before they expire, and the live connection outlives them', async (t) => {
  if (server.external) return t.skip('needs its own server (E2E_URL is set)');
  const short = await startServer(['--access-ttl', '8s'], { name: 'server-short-ttl' });
  try {
    const a = await apiSignUp(short.url, newUser('alice'));
    let b = await apiSignUp(short.url, newUser('bob'));
    const id = await apiCreateConversation(short.url, a, [b.userId]);
    const context = await browser.newContext({ baseURL: short.url, viewport: { width: 1280, height: 800 } });
    contexts.push(context);
    await context.addInitScript(trackSockets);
    const pa = await context.newPage();
    await signInUI(pa, a.username);
    await pa.goto(`/c/${id}`);
    await connected(pa);
    const refreshToken = () => pa.evaluate(() => JSON.parse(localStorage.getItem('confab.session.v1') || '{}').refreshToken);
    const first = await refreshToken();

    const socketsBefore = await pa.evaluate(() => window.__sockets.length);
    await pa.waitForTimeout(20_000); // two and a half token lifetimes
    assert.notEqual(await refreshToken(), first, 'the refresh token should have rotated');
    // The server closes a socket whose token expired (4403); the client came back with a fresh one.
    const socketsAfter = await pa.evaluate(() => window.__sockets.length);
    assert.ok(socketsAfter > socketsBefore, `expected reconnects after token expiry (${socketsBefore} → ${socketsAfter} sockets)`);
    await connected(pa);
    b = await apiLogin(short.url, b);
    await apiSend(short.url, b, id, 'after expiry');
    await expectMessagesEndWith(pa, ['after expiry'], 20_000);
    await sendUI(pa, 'still signed in');
    await expectMessagesEndWith(pa, ['after expiry', 'still signed in']);
    assert.equal(await pa.locator('[data-pending]').count(), 0);
    assert.equal(await pa.getByRole('heading', { name: 'Sign in' }).count(), 0);
  } finally {
    await short.stop();
  }
});

test('more than 1000 messages behind: the client reloads the newest page instead of resuming', async () => {
  const { pa, context, b, conversationId } = await pairWithConversation({ seed: ['start'] });
  await expectMessagesEndWith(pa, ['start']);
  const errorFrames = [];
  pa.on('websocket', (ws) =>
    ws.on('framereceived', (f) => {
      if (String(f.payload).includes('"type":"error"')) errorFrames.push(String(f.payload));
    }),
  );
  await context.setOffline(true);
  await pa.getByText("You're offline").waitFor();
  // 1010 messages while away, 8 at a time
  let n = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (n < 1010) {
        const i = ++n;
        await apiSend(server.url, b, conversationId, `bulk ${i}`);
      }
    }),
  );
  await apiSend(server.url, b, conversationId, 'the newest');
  await context.setOffline(false);
  await expectMessagesEndWith(pa, ['the newest'], 30_000);
  await connected(pa);
  assert.ok(
    errorFrames.some((f) => f.includes('BAD_USER_INPUT')),
    `expected the server to refuse the resume; error frames: ${JSON.stringify(errorFrames)}`,
  );
  // live again after the reload
  await apiSend(server.url, b, conversationId, 'live after reload');
  await expectMessagesEndWith(pa, ['the newest', 'live after reload']);
  const texts = await shownMessages(pa);
  assert.equal(new Set(texts).size, texts.length, 'no duplicates');
  assert.equal(await pa.getByRole('alert').count(), 0);
});

test('a socket that silently stops answering (sleep, dead network) is replaced, and nothing is missed', async () => {
  // The page's WebSockets go through the test, which can turn one into a black hole.
  let connections = 0;
  let dead = 0;
  const setup = (context) =>
    context.routeWebSocket(/\/graphql$/, (ws) => {
      const n = ++connections;
      const server = ws.connectToServer();
      ws.onMessage((m) => n !== dead && server.send(m));
      server.onMessage((m) => n !== dead && ws.send(m));
    });
  const { pa, b, conversationId } = await pairWithConversation({ seed: ['awake'], setup });
  await expectMessagesEndWith(pa, ['awake']);

  dead = connections; // the socket in use: from now on nothing passes either way, and nothing closes
  await apiSend(server.url, b, conversationId, 'sent into the void');
  // ping every 10 s, pong expected within 5 s: a new socket within ~15 s, then resume
  await expectMessagesEndWith(pa, ['awake', 'sent into the void'], 30_000);
  assert.ok(connections > dead, 'a new socket should have replaced the silent one');
  await connected(pa);
});

test('two identical texts in flight: the one that fails stays shown with Retry', async () => {
  const { pa, a, conversationId, context } = await pairWithConversation();
  // The first send is held, then fails. The second reaches the server at once,
  // but its answer is held until its copy has come back on the stream: the
  // client must not take that copy for the first send (same text).
  let first = null;
  let answerSecond = null;
  await context.route('**/graphql', async (route) => {
    if (!(route.request().postData() ?? '').includes('mutation Send')) return route.continue();
    if (!first) {
      first = route;
    } else if (!answerSecond) {
      const response = await route.fetch();
      answerSecond = () => route.fulfill({ response });
    } else {
      await route.continue();
    }
  });
  await sendUI(pa, 'same text');
  await eventually(() => first, { message: 'the first send to be held' });
  await sendUI(pa, 'same text');
  await eventually(() => answerSecond, { message: 'the second send to be stored' });
  await expectMessagesEndWith(pa, ['same text']); // the second, from the stream
  await answerSecond();
  await first.abort('failed');

  await pa.locator('[data-pending="failed"]', { hasText: 'same text' }).waitFor({ timeout: 5_000 });
  assert.equal(await pa.locator('[data-pending]').count(), 1);
  await pa.getByRole('button', { name: 'Retry' }).click();
  await expectMessagesEndWith(pa, ['same text', 'same text']);
  assert.equal(await pa.locator('[data-pending]').count(), 0);
  const d = await gql(server.url, a, `query($c: ID!) { listMessages(conversationId: $c, limit: 10) { items { content } } }`, {
    c: conversationId,
  });
  assert.deepEqual(
    d.listMessages.items.map((m) => m.content),
    ['same text', 'same text'],
  );
});
