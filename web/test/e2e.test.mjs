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
  messageItem,
  pinnedItem,
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
  // A reply thread covers the conversation at this width, and closes back to it.
  await messageItem(p, 'Seven, at the usual place.').getByRole('button', { name: 'Reply in thread' }).click();
  const thread = p.getByRole('complementary', { name: 'Thread' });
  await thread.getByText('No replies yet.').waitFor();
  const box = await thread.boundingBox();
  assert.equal(Math.round(box.width), 390, 'the thread takes the whole width');
  await screenshot(p, '19-phone-thread');
  await thread.getByRole('button', { name: 'Close thread' }).click();
  await thread.waitFor({ state: 'detached' });
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

// ---- conversation features (#12): each with two people, each in a browser ----

/** Alice and Bob (through the API), a conversation between them, and each
 *  signed in in a browser of their own with it open. */
async function twoInBrowsers(opts = {}) {
  const pair = await pairWithConversation(opts);
  const { context: contextB, page: pb } = await page(opts.context);
  if (opts.init) await contextB.addInitScript(opts.init);
  await signInUI(pb, pair.b.username);
  await pb.goto(`/c/${pair.conversationId}`);
  await connected(pb);
  return { ...pair, contextB, pb };
}

const listQuery = `query($c: ID!) { listMessages(conversationId: $c, limit: 50) {
  items { messageId content editedAt replyCount mentions reactions { key count userIds } }
} }`;

test('an own message is edited in place; the other side sees it edited, with its earlier version', async () => {
  const { pa, pb } = await twoInBrowsers();
  await sendUI(pa, 'see you at 7');
  await expectMessagesEndWith(pb, ['see you at 7']);

  // Keyboard only: focus the message's Edit button, change the text, Enter saves.
  const mine = await pinnedItem(pa, 'see you at 7');
  await mine.getByRole('button', { name: 'Edit message' }).focus();
  await pa.keyboard.press('Enter');
  const box = mine.getByLabel('Edit message');
  await box.waitFor();
  await box.press('End');
  await box.press('Backspace');
  await box.pressSequentially('8');
  await box.press('Enter');
  await expectMessagesEndWith(pa, ['see you at 8']);
  await expectMessagesEndWith(pb, ['see you at 8']);
  await screenshot(pa, '11-edited');

  // Bob sees "edited", and the earlier version behind it; he cannot edit Alice's message.
  const theirs = messageItem(pb, 'see you at 8');
  await theirs.getByRole('button', { name: 'edited' }).click();
  await theirs.getByRole('list', { name: 'Earlier versions' }).getByText('see you at 7').waitFor();
  assert.equal(await theirs.getByRole('button', { name: 'Edit message' }).count(), 0);

  // Escape leaves an edit without saving.
  await mine.getByRole('button', { name: 'Edit message' }).click();
  await mine.getByLabel('Edit message').fill('never saved');
  await mine.getByLabel('Edit message').press('Escape');
  await expectMessagesEndWith(pa, ['see you at 8']);
  assert.deepEqual(await shownMessages(pb), ['see you at 8']);
});

test('reactions: picked from the picker by keyboard, counted on both sides, toggled off', async () => {
  const { pa, pb, a, conversationId } = await twoInBrowsers({ seed: ['react to me'] });
  await expectMessagesEndWith(pa, ['react to me']);
  await expectMessagesEndWith(pb, ['react to me']);

  // Bob opens the picker with the keyboard and picks the second reaction with the arrow key.
  const bobMsg = messageItem(pb, 'react to me');
  await bobMsg.getByRole('button', { name: 'Add reaction' }).focus();
  await pb.keyboard.press('Enter');
  const picker = bobMsg.getByRole('group', { name: 'Pick a reaction' });
  await picker.waitFor();
  await pb.keyboard.press('ArrowRight');
  await pb.keyboard.press('Enter');
  await picker.waitFor({ state: 'detached' });
  const heart = (p) => messageItem(p, 'react to me').getByRole('group', { name: 'Reactions' }).locator('button.reaction', { hasText: '❤️' });
  await eventually(async () => (await heart(pa).getAttribute('aria-label')) === '❤️ 1', { message: 'Alice sees Bob’s ❤️' });
  assert.equal(await heart(pb).getAttribute('aria-pressed'), 'true');

  // Alice adds hers by clicking the count, then takes it back.
  await heart(pa).click();
  await eventually(async () => (await heart(pb).getAttribute('aria-label')) === '❤️ 2, including you', { message: 'two hearts on Bob’s side' });
  assert.equal(await heart(pa).getAttribute('aria-pressed'), 'true');
  await screenshot(pa, '12-reactions');
  await heart(pa).click();
  await eventually(async () => (await heart(pb).getAttribute('aria-label')) === '❤️ 1, including you', { message: 'back to one' });
  assert.equal(await heart(pa).getAttribute('aria-pressed'), 'false');

  const d = await gql(server.url, a, listQuery, { c: conversationId });
  assert.deepEqual(d.listMessages.items[0].reactions.map((r) => [r.key, r.count]), [['❤️', 1]]);
});

test('threads: a reply stays in its thread, the root counts it, unread replies show until the thread is read', async () => {
  const { pa, pb, a, b, conversationId } = await twoInBrowsers({ seed: ['lunch where?'] });
  await expectMessagesEndWith(pa, ['lunch where?']);

  // Bob replies in the thread.
  await messageItem(pb, 'lunch where?').getByRole('button', { name: 'Reply in thread' }).click();
  const bobThread = pb.getByRole('complementary', { name: 'Thread' });
  await bobThread.getByText('No replies yet.').waitFor();
  await bobThread.getByLabel('Reply', { exact: true }).fill('the noodle place');
  await bobThread.getByLabel('Reply', { exact: true }).press('Enter');
  await bobThread.locator('li.msg:not([data-pending])', { hasText: 'the noodle place' }).waitFor();

  // Alice: the root shows 1 reply, 1 new; the reply is not in her timeline.
  const summary = messageItem(pa, 'lunch where?').locator('.thread-summary');
  await eventually(async () => (await summary.getAttribute('aria-label'))?.startsWith('1 reply, 1 new'), { message: 'reply count and unread' });
  assert.deepEqual(await shownMessages(pa), ['lunch where?']);
  await screenshot(pa, '13-thread-unread');

  // She opens the thread: the reply is there and the unread count goes.
  await summary.click();
  const aliceThread = pa.getByRole('complementary', { name: 'Thread' });
  await aliceThread.locator('li.msg', { hasText: 'the noodle place' }).waitFor();
  await eventually(async () => (await summary.getAttribute('aria-label'))?.startsWith('1 reply:'), { message: 'unread replies cleared' });

  // She answers in the thread; Bob's open panel shows it live, and the root counts 2.
  await aliceThread.getByLabel('Reply', { exact: true }).fill('sounds good');
  await aliceThread.getByLabel('Reply', { exact: true }).press('Enter');
  await bobThread.locator('li.msg', { hasText: 'sounds good' }).waitFor();
  await eventually(async () => (await messageItem(pb, 'lunch where?').locator('.replies-count').innerText()) === '2 replies', {
    message: '2 replies on Bob’s side',
  });
  await screenshot(pa, '14-thread');
  // Escape closes the panel.
  await aliceThread.getByLabel('Reply', { exact: true }).press('Escape');
  await aliceThread.waitFor({ state: 'detached' });

  // A reply also sent to the conversation shows in the timeline too, and leads to its thread.
  await bobThread.getByLabel('Also send to the conversation').check();
  await bobThread.getByLabel('Reply', { exact: true }).fill('see you at noon');
  await bobThread.getByLabel('Reply', { exact: true }).press('Enter');
  await expectMessagesEndWith(pa, ['lunch where?', 'see you at noon']);
  await messageItem(pa, 'see you at noon').getByRole('button', { name: 'Replied in a thread' }).click();
  await aliceThread.locator('li.msg', { hasText: 'see you at noon' }).waitFor();

  const d = await gql(server.url, a, listQuery, { c: conversationId });
  assert.deepEqual(
    d.listMessages.items.map((m) => [m.content, m.replyCount]),
    [
      ['see you at noon', 0],
      ['lunch where?', 3],
    ],
  );
  const t = await gql(server.url, b, `query($c: ID!, $p: ID!) { listThread(conversationId: $c, parentMessageId: $p) { items { content } } }`, {
    c: conversationId,
    p: d.listMessages.items[1].messageId,
  });
  assert.deepEqual(t.listThread.items.map((m) => m.content), ['the noodle place', 'sounds good', 'see you at noon']);
});

test('@mention completes to a member, is sent as a mention, and is marked for the one mentioned', async () => {
  const { pa, pb, b, a, conversationId } = await twoInBrowsers();
  const box = composer(pa);
  await box.click();
  await box.pressSequentially(`thanks @${b.username.slice(0, 4)}`);
  const options = pa.getByRole('listbox', { name: 'Members to mention' }).getByRole('option');
  await options.first().waitFor();
  assert.equal(await options.count(), 1);
  assert.match(await options.first().innerText(), new RegExp(b.username));
  await screenshot(pa, '15-mention-completion');
  await box.press('Enter'); // completes
  assert.equal(await box.inputValue(), `thanks @${b.username} `);
  await box.pressSequentially('for lunch');
  await box.press('Enter'); // sends
  const text = `thanks @${b.username} for lunch`;
  await expectMessagesEndWith(pb, [text]);
  await messageItem(pb, text).locator('.mention-me', { hasText: `@${b.username}` }).waitFor();

  const d = await gql(server.url, a, listQuery, { c: conversationId });
  assert.deepEqual(d.listMessages.items[0].mentions, [b.userId]);

  // With the conversation not open, Bob's list marks the unread mention.
  await pb.goto('/');
  await connected(pb);
  await sendUI(pa, `@${b.username} are you there?`);
  const item = pb.locator(`a.conv[data-conversation-id="${conversationId}"]`);
  await item.locator('.mention-badge').waitFor();
  assert.match(await item.getAttribute('aria-label'), /1 mention of you/);
});

test('"is typing…" shows on the other side only, and goes when the typist stops', async () => {
  const { pa, pb, a } = await twoInBrowsers();
  const box = composer(pa);
  await box.click();
  await box.pressSequentially('I am writing');
  const line = pb.locator('.typing');
  await eventually(async () => (await line.innerText()) === `${a.displayName} is typing…`, { message: 'Bob sees Alice typing' });
  await screenshot(pb, '16-typing');
  assert.equal(await pa.locator('.typing').innerText(), '', 'never echoed to the typist');
  await box.fill('');
  await eventually(async () => (await line.innerText()) === '', { message: 'typing gone after clearing' });

  // Sending stops it too.
  await box.pressSequentially('done');
  await eventually(async () => (await line.innerText()) !== '', { message: 'typing again' });
  await box.press('Enter');
  await expectMessagesEndWith(pb, ['done']);
  await eventually(async () => (await line.innerText()) === '', { message: 'typing gone after sending' });
});

test('read receipts: ticks turn read and the reader’s avatar moves when the other side reads; private receipts stay private', async () => {
  const { pa, pb, b, conversationId } = await twoInBrowsers();
  await sendUI(pa, 'did you read this?');
  const tick = () => messageItem(pa, 'did you read this?').locator('.tick');
  // Bob has the conversation open and visible: it is read at once.
  await eventually(async () => (await tick().getAttribute('data-receipt')) === 'read', { message: 'read tick' });
  await messageItem(pa, 'did you read this?').getByRole('img', { name: `Read by ${b.displayName}` }).waitFor();
  await screenshot(pa, '17-read-receipts');

  // Bob leaves; a new message stays "sent" until he is back.
  await pb.goto('/');
  await connected(pb);
  await sendUI(pa, 'and this one?');
  await expectMessagesEndWith(pa, ['did you read this?', 'and this one?']);
  await new Promise((r) => setTimeout(r, 500)); // give a wrong receipt the chance to show
  assert.equal(await messageItem(pa, 'and this one?').locator('.tick').getAttribute('data-receipt'), 'sent');
  await pb.goto(`/c/${conversationId}`);
  await eventually(async () => (await messageItem(pa, 'and this one?').locator('.tick').getAttribute('data-receipt')) === 'read', {
    message: 'read after Bob came back',
  });
  assert.equal(await messageItem(pa, 'did you read this?').locator('.readers').count(), 0, 'the avatar moved on');

  // Bob hides his receipts in his settings: Alice's next message is never shown read.
  await pb.getByRole('button', { name: 'Settings' }).click();
  const settings = pb.getByRole('dialog', { name: 'Settings' });
  const share = settings.getByLabel('Share read receipts');
  await eventually(async () => (await share.isChecked()) && (await share.isEnabled()), { message: 'receipts shared by default' });
  await share.uncheck();
  await eventually(async () => !(await share.isChecked()) && (await share.isEnabled()), { message: 'setting saved' });
  await settings.getByRole('button', { name: 'Done' }).click();
  const me = await gql(server.url, b, `query { me { hideReadReceipts } }`);
  assert.equal(me.me.hideReadReceipts, true);
  await sendUI(pa, 'private now?');
  await expectMessagesEndWith(pb, ['private now?']);
  await pa.reload();
  await connected(pa);
  await expectMessagesEndWith(pa, ['private now?']);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await messageItem(pa, 'private now?').locator('.tick').getAttribute('data-receipt'), 'sent');
  assert.equal(await pa.locator('.readers').count(), 0);
});

test('search across all conversations finds hits in each, and opens the one chosen', async () => {
  const { pa, pb, a } = await twoInBrowsers({ name: 'With Bob' });
  const c = await apiSignUp(server.url, newUser('cleo'));
  const other = await apiCreateConversation(server.url, c, [a.userId], 'With Cleo');
  await apiSend(server.url, c, other, 'the pineapple pizza debate');
  for (let i = 0; i < 40; i++) await apiSend(server.url, c, other, `cleo filler ${i}`);
  await sendUI(pb, 'pineapple on everything');
  await expectMessagesEndWith(pa, ['pineapple on everything']);

  await pa.getByRole('button', { name: 'Search all conversations' }).click();
  const search = pa.getByRole('search', { name: 'Search all conversations' });
  await search.getByLabel('Search all conversations').fill('pineapple');
  await search.getByLabel('Search all conversations').press('Enter');
  const hits = search.locator('.search-hit');
  await eventually(async () => (await hits.count()) === 2, { message: '2 hits' });
  assert.deepEqual(await hits.locator('.search-hit-conv').allInnerTexts(), ['With Bob', 'With Cleo']);
  await screenshot(pa, '18-search-all');

  // The older hit is in the other conversation, beyond its first page: it opens there, highlighted.
  await hits.nth(1).click();
  await pa.waitForURL(new RegExp(`/c/${other}$`));
  await pa.locator('.thread-main li.msg.highlight', { hasText: 'the pineapple pizza debate' }).waitFor({ timeout: 20_000 });

  // Bob edits his hit away: searching again finds only Cleo's.
  const bobs = await pinnedItem(pb, 'pineapple on everything');
  await bobs.getByRole('button', { name: 'Edit message' }).click();
  await bobs.getByLabel('Edit message').fill('olives on everything');
  await bobs.getByLabel('Edit message').press('Enter');
  await expectMessagesEndWith(pb, ['olives on everything']);
  await search.getByLabel('Search all conversations').press('Enter');
  await eventually(async () => JSON.stringify(await hits.locator('.search-hit-conv').allInnerTexts()) === '["With Cleo"]', {
    message: 'the edited message no longer found',
  });
});

test('after a drop the open conversation shows every change made meanwhile, from the change log, without a reload', async () => {
  const { pa, pb, context, a, conversationId } = await twoInBrowsers({ seed: ['keep', 'to edit', 'to delete', 'to react'] });
  await expectMessagesEndWith(pa, ['keep', 'to edit', 'to delete', 'to react']);
  await pa.evaluate(() => (window.__noReload = true));
  const listCalls = [];
  pa.on('request', (r) => {
    if ((r.postData() ?? '').includes('listMessages')) listCalls.push(r.url());
  });

  await context.setOffline(true);
  await pa.getByText("You're offline").waitFor();
  // Bob, in his browser, changes things while Alice is away.
  const edit = await pinnedItem(pb, 'to edit');
  await edit.getByRole('button', { name: 'Edit message' }).click();
  await edit.getByLabel('Edit message').fill('edited while away');
  await edit.getByLabel('Edit message').press('Enter');
  await expectMessagesEndWith(pb, ['keep', 'edited while away', 'to delete', 'to react']);
  const del = messageItem(pb, 'to delete');
  await del.getByRole('button', { name: 'Delete message' }).click();
  await del.getByRole('group', { name: 'Confirm delete' }).getByRole('button', { name: 'Delete' }).click();
  await eventually(async () => !(await shownMessages(pb)).includes('to delete'), { message: 'deleted on Bob side' });
  await messageItem(pb, 'to react').getByRole('button', { name: 'Add reaction' }).click();
  await messageItem(pb, 'to react').getByRole('button', { name: 'React with 🎉' }).click();
  await messageItem(pb, 'keep').getByRole('button', { name: 'Reply in thread' }).click();
  const thread = pb.getByRole('complementary', { name: 'Thread' });
  await thread.getByLabel('Reply', { exact: true }).fill('a reply while away');
  await thread.getByLabel('Reply', { exact: true }).press('Enter');
  await sendUI(pb, 'new while away');
  await expectMessagesEndWith(pb, ['new while away']);
  await messageItem(pb, 'keep').locator('.thread-summary').waitFor();

  await context.setOffline(false);
  await expectMessagesEndWith(pa, ['keep', 'edited while away', 'to react', 'new while away'], 30_000);
  await connected(pa);
  const reacted = messageItem(pa, 'to react').locator('button.reaction', { hasText: '🎉' });
  await eventually(async () => (await reacted.getAttribute('aria-label')) === '🎉 1', { message: 'the reaction' });
  await messageItem(pa, 'edited while away').getByRole('button', { name: 'edited' }).waitFor();
  await eventually(async () => (await messageItem(pa, 'keep').locator('.replies-count').innerText().catch(() => '')) === '1 reply', {
    message: 'the reply count',
  });
  assert.equal(await pa.evaluate(() => window.__noReload), true, 'the page must not have reloaded');
  assert.deepEqual(listCalls, [], 'caught up from the change log, not by listing messages again');

  // Exactly what a fresh listMessages shows.
  const d = await gql(server.url, a, listQuery, { c: conversationId });
  assert.deepEqual(
    d.listMessages.items.map((m) => m.content).reverse(),
    await shownMessages(pa),
  );
});
