// Membership and moderation in the browser (issue 15): the real binary,
// the built client, system Chromium. Run with `npm test`.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer,
  launchBrowser,
  newUser,
  newPage,
  signInUI,
  eventually,
  screenshot,
  apiSignUp,
  apiCreateConversation,
  apiSend,
  makeAdmin,
  password,
  gql,
  sendUI,
  cleanup,
} from './harness.mjs';

let server;
let browser;
const contexts = [];

before(
  async () => {
    server = await startServer([], { name: 'members-server' });
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

/** user signed in in a fresh browser context, the list shown and the socket up. */
async function signedIn(user, opts) {
  const { context, page } = await newPage(browser, server.url, opts);
  contexts.push(context);
  await signInUI(page, user.username);
  await page.locator('.app[data-conn="connected"]').waitFor({ timeout: 15_000 });
  return page;
}

/** The conversation's entry in the sidebar list. */
const listItem = (page, id) => page.locator(`a.conv[data-conversation-id="${id}"]`);

async function openConversation(page, id) {
  await listItem(page, id).click();
  await page.waitForURL(new RegExp(`/c/${id}$`));
  await page.locator('.thread-main .history-edge').getByText(/No messages yet|beginning of the conversation/).waitFor();
}

test('a member leaves a conversation and it disappears from their list live, in every tab', async () => {
  const a = await apiSignUp(server.url, newUser('alice'));
  const b = await apiSignUp(server.url, newUser('bob'));
  const c = await apiSignUp(server.url, newUser('carol'));
  const stay = await apiCreateConversation(server.url, a, [b.userId], 'Staying');
  const leave = await apiCreateConversation(server.url, a, [b.userId, c.userId], 'Leaving soon');

  const pb = await signedIn(b, { viewport: { width: 375, height: 740 } }); // a phone
  const pb2 = await signedIn(b); // another tab of Bob's, elsewhere in the app
  await listItem(pb2, leave).waitFor();
  await openConversation(pb, leave);

  await pb.getByRole('button', { name: 'Members' }).click();
  const members = pb.getByRole('dialog', { name: 'Members' });
  await members.getByRole('list', { name: 'Members' }).getByText(c.displayName).waitFor();
  await screenshot(pb, '40-members-panel-phone');
  await members.getByRole('button', { name: 'Leave conversation' }).click();
  await members.getByRole('button', { name: 'Leave', exact: true }).click();

  // Bob's view closes with a notice, and the conversation is gone from both of his lists.
  await pb.waitForURL((u) => u.pathname === '/');
  assert.match(await pb.getByRole('alert').first().innerText(), /no longer a member of “Leaving soon”/);
  await eventually(async () => (await listItem(pb, leave).count()) === 0, { message: 'gone from the list' });
  await eventually(async () => (await listItem(pb2, leave).count()) === 0, { message: 'gone from the other tab live' });
  assert.equal(await listItem(pb2, stay).count(), 1, 'the other conversation stays');
  assert.equal(await listItem(pb, stay).count(), 1);
});

test('a member removed by an admin sees the conversation vanish while it is open', async () => {
  const a = await apiSignUp(server.url, newUser('alice'));
  const b = await apiSignUp(server.url, newUser('bob'));
  const c = await apiSignUp(server.url, newUser('carol'));
  const id = await apiCreateConversation(server.url, a, [b.userId, c.userId], 'Team room');

  const pb = await signedIn(b);
  await openConversation(pb, id);
  const pa = await signedIn(a);
  await openConversation(pa, id);

  // Alice (the owner) sees moderation actions; Bob (a member) sees none on Carol.
  await pa.getByRole('button', { name: 'Members' }).click();
  const members = pa.getByRole('dialog', { name: 'Members' });
  await members.getByRole('button', { name: `Actions for ${b.displayName}` }).click();
  const moderate = members.getByRole('group', { name: `Moderate ${b.displayName}` });
  await moderate.waitFor();
  await screenshot(pa, '41-member-actions');
  await moderate.getByRole('button', { name: 'Remove…' }).click();
  await moderate.getByRole('button', { name: 'Remove', exact: true }).click();
  await eventually(async () => (await members.locator(`li.member[data-user-id="${b.userId}"]`).count()) === 0, {
    message: 'Bob gone from the members panel',
  });

  await pb.waitForURL((u) => u.pathname === '/', { timeout: 15_000 });
  assert.match(await pb.getByRole('alert').first().innerText(), /no longer a member of “Team room”/);
  assert.equal(await listItem(pb, id).count(), 0);
  await screenshot(pb, '42-removed');

  // and going back to its address finds nothing
  await pb.goto(`/c/${id}`);
  await pb.getByText('This conversation does not exist, or you are not in it.').waitFor();
});

test('nobody is added silently: an invitation arrives live and accepting it joins', async () => {
  const a = await apiSignUp(server.url, newUser('alice'));
  const b = await apiSignUp(server.url, newUser('bob'));
  const pb = await signedIn(b);

  // Bob asks to be invited rather than added.
  await pb.getByRole('button', { name: 'Settings' }).click();
  const settings = pb.getByRole('dialog', { name: 'Settings' });
  const ask = settings.getByLabel('Nobody: always ask me with an invitation');
  await ask.check();
  await eventually(async () => (await gql(server.url, b, 'query { me { addPolicy } }')).me.addPolicy === 'INVITATION', {
    message: 'the policy saved',
  });
  await settings.getByRole('button', { name: 'Done' }).click();

  const id = await apiCreateConversation(server.url, a, [], 'Book club');
  const added = await gql(server.url, a, 'mutation($c: ID!, $u: [ID!]!) { addMembers(conversationId: $c, userIds: $u) { added invited } }', {
    c: id,
    u: [b.userId],
  });
  assert.deepEqual(added.addMembers, { added: [], invited: [b.userId] });

  const invitations = pb.getByRole('region', { name: /Invitations/ });
  await invitations.getByText(/invites you to “Book club”/).waitFor();
  assert.equal(await listItem(pb, id).count(), 0, 'not a member before accepting');
  await screenshot(pb, '45-invitation');
  await invitations.getByRole('button', { name: 'Accept the invitation to “Book club”' }).click();
  await pb.waitForURL(new RegExp(`/c/${id}$`));
  await listItem(pb, id).waitFor();
  assert.equal(await invitations.count(), 0, 'the invitation is gone');
});

test('moderation: the owner deletes a member\'s message (a tombstone says so) and mutes them; the member reports a message', async () => {
  const a = await apiSignUp(server.url, newUser('alice'));
  const b = await apiSignUp(server.url, newUser('bob'));
  const id = await apiCreateConversation(server.url, a, [b.userId], 'Moderated');
  await apiSend(server.url, a, id, 'house rules: be kind');
  await apiSend(server.url, b, id, 'buy cheap watches');

  const pb = await signedIn(b);
  await openConversation(pb, id);
  const pa = await signedIn(a);
  await openConversation(pa, id);

  // Bob reports Alice's message.
  const rules = pb.locator('.thread-main li.msg', { hasText: 'house rules: be kind' });
  await rules.hover();
  await rules.getByRole('button', { name: 'Report message' }).click();
  const form = rules.getByRole('form', { name: 'Report this message' });
  await form.getByLabel(/What is wrong/).fill('too bossy');
  await form.getByRole('button', { name: 'Send report' }).click();
  await rules.getByText("Reported to the server's administrators.").waitFor();

  // Alice, the owner, deletes Bob's message: both see the tombstone, live.
  const spam = pa.locator('.thread-main li.msg', { hasText: 'buy cheap watches' });
  await spam.hover();
  await spam.getByRole('button', { name: 'Delete message' }).click();
  await spam.getByRole('button', { name: 'Delete', exact: true }).click();
  await pa.locator('.thread-main li.tombstone').getByText(/was deleted by a moderator/).waitFor();
  await pb.locator('.thread-main li.tombstone').getByText('Your message was deleted by a moderator.').waitFor();
  assert.equal(await pb.locator('.thread-main').getByText('buy cheap watches').count(), 0);
  await screenshot(pb, '46-tombstone');

  // Alice mutes Bob for an hour: his composer says so at once.
  await pa.getByRole('button', { name: 'Members' }).click();
  const members = pa.getByRole('dialog', { name: 'Members' });
  await members.getByRole('button', { name: `Actions for ${b.displayName}` }).click();
  const moderate = members.getByRole('group', { name: `Moderate ${b.displayName}` });
  await moderate.getByLabel('For how long').selectOption({ label: '1 hour' });
  await moderate.getByRole('button', { name: 'Mute' }).click();
  await members.locator(`li.member[data-user-id="${b.userId}"] .role-muted`).waitFor();
  await pb.locator('.composer-blocked').getByText(/muted you until/).waitFor();
  assert.equal(await pb.getByLabel('Message', { exact: true }).count(), 0, 'no composer while muted');
  assert.equal(await pb.locator('.thread-main').getByRole('button', { name: 'Add reaction' }).count(), 0, 'no reactions while muted');
  await screenshot(pb, '47-muted');
});

test('slow mode set in the settings: a second message too soon says how long to wait', async () => {
  const a = await apiSignUp(server.url, newUser('alice'));
  const b = await apiSignUp(server.url, newUser('bob'));
  const id = await apiCreateConversation(server.url, a, [b.userId], 'Slow room');
  const pa = await signedIn(a);
  await openConversation(pa, id);
  await pa.getByRole('button', { name: 'Members' }).click();
  await pa.getByRole('dialog', { name: 'Members' }).getByRole('button', { name: 'Conversation settings' }).click();
  const settings = pa.getByRole('dialog', { name: 'Conversation settings' });
  await settings.getByLabel(/^Slow mode/).fill('600');
  await settings.getByRole('button', { name: 'Save' }).click();
  await settings.waitFor({ state: 'detached' });

  const pb = await signedIn(b);
  await openConversation(pb, id);
  await pb.getByText('Slow mode: one message every 600 s.').waitFor();
  await sendUI(pb, 'first');
  await pb.locator('.thread-main li.msg:not([data-pending])', { hasText: 'first' }).waitFor();
  await sendUI(pb, 'second, too soon');
  const failed = pb.locator('[data-pending="failed"]');
  await failed.waitFor();
  assert.match(await failed.getByRole('alert').innerText(), /try again in \d+ minutes/);
  await screenshot(pb, '49-slow-mode');
});

test("a user's card: a direct message, then block and unblock in the settings", async () => {
  const a = await apiSignUp(server.url, newUser('alice'));
  const b = await apiSignUp(server.url, newUser('bob'));
  const c = await apiSignUp(server.url, newUser('carol'));
  const id = await apiCreateConversation(server.url, a, [b.userId, c.userId], 'Group');
  await apiSend(server.url, b, id, 'hello group');
  const pa = await signedIn(a);
  await openConversation(pa, id);

  await pa.getByRole('button', { name: `About ${b.displayName}` }).click();
  const card = pa.getByRole('dialog', { name: b.displayName });
  await card.getByRole('button', { name: 'Message directly' }).click();
  await pa.waitForURL((u) => u.pathname.startsWith('/c/') && !u.pathname.endsWith(id));
  const direct = decodeURIComponent(new URL(pa.url()).pathname.slice(3));
  const conv = await gql(server.url, a, 'query($c: ID!) { getConversation(conversationId: $c) { direct participants } }', { c: direct });
  assert.equal(conv.getConversation.direct, true);
  assert.deepEqual([...conv.getConversation.participants].sort(), [a.userId, b.userId].sort());

  // Block Bob from his card; the settings list him, and unblock him there.
  await pa.getByRole('button', { name: 'Members' }).click();
  const members = pa.getByRole('dialog', { name: 'Members' });
  await members.getByRole('button', { name: `Actions for ${b.displayName}` }).click();
  await members.getByRole('button', { name: 'Block', exact: true }).click();
  await members.getByRole('button', { name: 'Unblock', exact: true }).waitFor();
  await members.getByRole('button', { name: 'Close', exact: true }).first().click();
  await pa.getByRole('button', { name: 'Settings' }).click();
  const settings = pa.getByRole('dialog', { name: 'Settings' });
  await settings.getByRole('button', { name: `Unblock ${b.displayName}` }).click();
  await settings.getByText('You block no one.').waitFor();
  const blocked = await gql(server.url, a, 'query { blockedUsers { userId } }');
  assert.deepEqual(blocked.blockedUsers, []);
});

test('an admin bans a user, who is signed out and cannot sign in again; the admin area resolves a report, charts usage and archives a conversation', async () => {
  const admin = await apiSignUp(server.url, newUser('admin'));
  await makeAdmin(server, admin);
  const v = await apiSignUp(server.url, newUser('victor'));
  const r = await apiSignUp(server.url, newUser('rita'));
  await gql(server.url, r, 'mutation($u: ID!) { reportUser(userId: $u, reason: "sends spam links") }', { u: v.userId });
  const busy = await apiCreateConversation(server.url, r, [v.userId], 'Busy');
  await apiSend(server.url, r, busy, 'so there is activity today');

  const pv = await signedIn(v);
  const pa = await signedIn(admin);
  await pa.getByRole('link', { name: 'Administration' }).click();
  await pa.getByRole('heading', { name: 'Administration' }).waitFor();
  await pa.getByLabel('Search users').fill(v.username);
  await pa.getByRole('button', { name: 'Search', exact: true }).click();
  const users = pa.getByRole('list', { name: 'Users' });
  await users.getByText(v.displayName).waitFor();
  await users.getByRole('button', { name: `Actions for ${v.displayName}` }).click();
  const panel = users.getByRole('group', { name: `Administer ${v.displayName}` });
  await panel.getByLabel('Ban for how long').selectOption({ label: 'For good' });
  await panel.getByLabel(/^Reason/).fill('spam');
  await panel.getByRole('button', { name: 'Ban from the server' }).click();
  await users.getByText('Banned for good').waitFor();
  await screenshot(pa, '43-admin-ban');

  // Victor's open page is signed out...
  await pv.getByRole('heading', { name: 'Sign in' }).waitFor({ timeout: 20_000 });
  await screenshot(pv, '44-banned-signed-out');
  // ...and cannot sign in again.
  await pv.getByLabel('Email or username').fill(v.username);
  await pv.getByLabel('Password', { exact: true }).fill(password);
  await pv.getByRole('button', { name: 'Sign in' }).click();
  await pv.getByRole('alert').waitFor();
  assert.equal(await pv.getByRole('navigation', { name: 'Conversation list' }).count(), 0);

  // The audit log has it.
  await pa.getByRole('tab', { name: 'Audit log' }).click();
  await pa.getByRole('list', { name: 'Audit log' }).locator('li[data-action="USER_BANNED"]').first().waitFor();

  // The report about Victor is resolved out of the open queue.
  await pa.getByRole('tab', { name: 'Reports' }).click();
  const report = pa.getByRole('list', { name: 'Reports' }).locator('li', { hasText: 'sends spam links' });
  await report.getByLabel(/^Resolution/).fill('banned');
  await report.getByRole('button', { name: 'Resolve' }).click();
  await eventually(async () => (await report.count()) === 0, { message: 'the report leaves the open queue' });

  // Usage: today's messages are drawn in the chart (inline SVG).
  await pa.getByRole('tab', { name: 'Usage' }).click();
  const chart = pa.locator('figure.chart');
  await chart.locator('svg rect.bar').first().waitFor({ state: 'attached' });
  const today = new Date().toISOString().slice(0, 10);
  await chart.locator('summary').click();
  const row = chart.locator('tr', { has: pa.locator(`th:text-is("${today}")`) });
  assert.ok(Number(await row.locator('td').first().innerText()) >= 1, 'messages today');
  await screenshot(pa, '48-admin-usage');

  // Conversations: inspect one's members, archive it; its members' composer then says so.
  await pa.getByRole('tab', { name: 'Conversations' }).click();
  const convs = pa.getByRole('list', { name: 'Conversations' });
  await convs.getByRole('button', { name: 'Actions for Busy' }).click();
  const inspected = convs.getByRole('list', { name: 'Members of Busy' });
  await inspected.getByText(r.displayName).waitFor();
  await inspected.getByText(v.displayName).waitFor();
  await convs.getByRole('group', { name: 'Administer Busy' }).getByRole('button', { name: 'Archive' }).click();
  await convs.locator(`li[data-conversation-id="${busy}"] .role-muted`).getByText('Archived').waitFor();
  const pr = await signedIn(r);
  await openConversation(pr, busy);
  await pr.locator('.composer-blocked').getByText(/archived this conversation/).waitFor();

  // The admin area fits a phone: nothing wider than the screen.
  await pa.setViewportSize({ width: 375, height: 740 });
  await pa.getByRole('tab', { name: 'Users' }).click();
  await pa.getByRole('list', { name: 'Users' }).locator('li').first().waitFor();
  assert.ok(await pa.evaluate(() => document.documentElement.scrollWidth <= 375), 'no horizontal scroll at 375 px');
  await screenshot(pa, '50-admin-phone');
});
