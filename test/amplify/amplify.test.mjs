// aws-amplify v6, unchanged, against the real confab binary over HTTPS:
// configured only with confab's amplify_outputs.json plus userPoolEndpoint
// (what `confab amplify-config` prints). Every Auth call an app written for
// the recipe makes, then the GraphQL API with the signed-in session.
//
// Two servers: one with the default auto-confirmed sign-ups, one with
// --smtp-url whose codes this test reads from its own SMTP receiver.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Amplify } from 'aws-amplify';
import {
  signUp, confirmSignUp, signIn, confirmSignIn, signOut, getCurrentUser, fetchAuthSession,
  fetchUserAttributes, updateUserAttributes, resetPassword, confirmResetPassword,
} from 'aws-amplify/auth';
import { cognitoUserPoolsTokenProvider } from 'aws-amplify/auth/cognito';
import { generateClient } from 'aws-amplify/api';
import { Hub } from 'aws-amplify/utils';
import { CognitoIdentityProviderClient, AdminCreateUserCommand, InitiateAuthCommand, GetUserCommand, GlobalSignOutCommand } from '@aws-sdk/client-cognito-identity-provider';
import { adminKey, build, clientId, codeIn, httpsAgent, startConfab, startSMTP, tempDir, trust, userPoolId } from './harness.mjs';

let tmp, plain, mailing, smtp;

// store is Amplify's token storage, a Map so the test can read the refresh
// token Amplify holds (it never hands it out otherwise). Amplify.configure
// resets the storage, so use() sets it after each configuration.
const store = new Map();
const storage = {
  setItem: async (k, v) => { store.set(k, v); },
  getItem: async (k) => store.get(k) ?? null,
  removeItem: async (k) => { store.delete(k); },
  clear: async () => { store.clear(); },
};
const refreshTokenHeld = () => [...store].find(([k]) => k.endsWith('.refreshToken'))?.[1];

before(async () => {
  tmp = tempDir();
  smtp = await startSMTP();
  plain = await startConfab(tmp.dir, 'plain');
  mailing = await startConfab(tmp.dir, 'mailing', ['--smtp-url', smtp.url, '--mail-from', 'confab <no-reply@chat.example.com>']);
  trust([plain.ca, mailing.ca]);
});

after(() => {
  plain?.stop();
  mailing?.stop();
  smtp?.close();
  tmp?.remove();
});

// use points Amplify at server exactly as `confab amplify-config` says.
function use(server) {
  const outputs = JSON.parse(execFileSync(build(tmp.dir), ['amplify-config', '--public-url', server.base, '--format', 'json'], { encoding: 'utf8' }));
  Amplify.configure(outputs);
  const config = Amplify.getConfig();
  Amplify.configure({ ...config, Auth: { Cognito: { ...config.Auth.Cognito, userPoolEndpoint: `${server.base}/cognito` } } });
  cognitoUserPoolsTokenProvider.setKeyValueStorage(storage);
}

// cognito is the AWS SDK v3 client for server, for checks Amplify cannot make.
function cognito(server) {
  return new CognitoIdentityProviderClient({
    region: 'local', endpoint: `${server.base}/cognito`, credentials: adminKey,
    requestHandler: { httpsAgent: httpsAgent([server.ca]) },
  });
}

let seq = 0;
const newEmail = (name) => `${name}${++seq}-${Date.now()}@example.com`;
const PASSWORD = 'Passw0rd!x';

async function signedUp(server, name) {
  use(server);
  const email = newEmail(name);
  const r = await signUp({ username: email, password: PASSWORD, options: { userAttributes: { email } } });
  assert.equal(r.nextStep.signUpStep, 'DONE', JSON.stringify(r));
  return email;
}

async function freshSignIn(server, name, options) {
  await signOut().catch(() => {});
  const email = await signedUp(server, name);
  const r = await signIn({ username: email, password: PASSWORD, options });
  assert.equal(r.isSignedIn, true, JSON.stringify(r));
  return email;
}

const claims = (jwt) => JSON.parse(Buffer.from(jwt.toString().split('.')[1], 'base64url'));

test('signUp is confirmed at once without mail (auto-confirm)', async () => {
  use(plain);
  const email = newEmail('auto');
  const r = await signUp({ username: email, password: PASSWORD, options: { userAttributes: { email } } });
  assert.equal(r.isSignUpComplete, true);
  assert.equal(r.nextStep.signUpStep, 'DONE');
  assert.match(r.userId, /^[0-9a-f-]{36}$/);
});

test('signUp with --smtp-url: the e-mailed code confirms the account', async () => {
  await signOut().catch(() => {});
  use(mailing);
  const email = newEmail('mailed');
  const r = await signUp({ username: email, password: PASSWORD, options: { userAttributes: { email } } });
  assert.equal(r.nextStep.signUpStep, 'CONFIRM_SIGN_UP', JSON.stringify(r));
  assert.equal(r.nextStep.codeDeliveryDetails.deliveryMedium, 'EMAIL');
  // Amplify turns UserNotConfirmedException into this next step.
  const early = await signIn({ username: email, password: PASSWORD });
  assert.equal(early.isSignedIn, false);
  assert.equal(early.nextStep.signInStep, 'CONFIRM_SIGN_UP', JSON.stringify(early));
  await assert.rejects(confirmSignUp({ username: email, confirmationCode: '000000' }), { name: 'CodeMismatchException' });
  const code = codeIn(await smtp.mail(email));
  const done = await confirmSignUp({ username: email, confirmationCode: code });
  assert.equal(done.isSignUpComplete, true);
  const s = await signIn({ username: email, password: PASSWORD });
  assert.equal(s.isSignedIn, true);
  await signOut();
});

test('default signIn (USER_SRP_AUTH): getCurrentUser names the token subject', async () => {
  const email = await freshSignIn(plain, 'srp');
  const user = await getCurrentUser();
  const { tokens } = await fetchAuthSession();
  assert.equal(user.userId, claims(tokens.idToken).sub);
  assert.equal(claims(tokens.idToken).email, email);
  assert.equal(claims(tokens.accessToken).token_use, 'access');
  await assert.rejects(signIn({ username: email, password: 'Wr0ng!pass' }), { name: 'UserAlreadyAuthenticatedException' });
  await signOut();
  await assert.rejects(signIn({ username: email, password: 'Wr0ng!pass' }), { name: 'NotAuthorizedException' });
});

test('signIn with USER_PASSWORD_AUTH', async () => {
  await freshSignIn(plain, 'pwd', { authFlowType: 'USER_PASSWORD_AUTH' });
  assert.ok((await fetchAuthSession()).tokens.accessToken);
  await signOut();
});

test('NEW_PASSWORD_REQUIRED for an admin-created user', async () => {
  await signOut().catch(() => {});
  use(plain);
  const email = newEmail('invited');
  await cognito(plain).send(new AdminCreateUserCommand({
    UserPoolId: userPoolId, Username: email, TemporaryPassword: 'TempPassword123!', MessageAction: 'SUPPRESS',
    UserAttributes: [{ Name: 'email', Value: email }],
  }));
  const r = await signIn({ username: email, password: 'TempPassword123!' });
  assert.equal(r.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_NEW_PASSWORD_REQUIRED', JSON.stringify(r));
  const done = await confirmSignIn({ challengeResponse: 'NewPassw0rd!x' });
  assert.equal(done.isSignedIn, true, JSON.stringify(done));
  await signOut();
  assert.equal((await signIn({ username: email, password: 'NewPassw0rd!x' })).isSignedIn, true);
  await signOut();
});

test('fetchAuthSession({forceRefresh:true}) gets new tokens that the API accepts', async () => {
  await freshSignIn(plain, 'refresh');
  const before = (await fetchAuthSession()).tokens;
  const after = (await fetchAuthSession({ forceRefresh: true })).tokens;
  assert.notEqual(claims(after.accessToken).jti, claims(before.accessToken).jti);
  assert.equal(claims(after.idToken).sub, claims(before.idToken).sub);
  const res = await fetch(`${plain.base}/graphql`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: after.accessToken.toString() },
    body: JSON.stringify({ query: '{ me { userId } }' }),
  });
  assert.equal((await res.json()).data.me.userId, claims(after.idToken).sub);
  await signOut();
});

test('fetchUserAttributes and updateUserAttributes', async () => {
  const email = await freshSignIn(plain, 'attrs');
  const attrs = await fetchUserAttributes();
  assert.equal(attrs.email, email);
  assert.match(attrs.sub, /^[0-9a-f-]{36}$/);
  const out = await updateUserAttributes({ userAttributes: { name: 'Alice Example' } });
  assert.equal(out.name.isUpdated, true, JSON.stringify(out));
  assert.equal((await fetchUserAttributes()).name, 'Alice Example');
  await signOut();
});

test('resetPassword and confirmResetPassword with the e-mailed code', async () => {
  await signOut().catch(() => {});
  use(mailing);
  const email = newEmail('forgot');
  await signUp({ username: email, password: PASSWORD, options: { userAttributes: { email } } });
  await confirmSignUp({ username: email, confirmationCode: codeIn(await smtp.mail(email)) });
  const r = await resetPassword({ username: email });
  assert.equal(r.nextStep.resetPasswordStep, 'CONFIRM_RESET_PASSWORD_WITH_CODE', JSON.stringify(r));
  await confirmResetPassword({ username: email, confirmationCode: codeIn(await smtp.mail(email)), newPassword: 'Res3tPassw0rd!' });
  await assert.rejects(signIn({ username: email, password: PASSWORD }), { name: 'NotAuthorizedException' });
  assert.equal((await signIn({ username: email, password: 'Res3tPassw0rd!' })).isSignedIn, true);
  await signOut();
  // An unknown account gets the same answer: resetPassword reveals nothing.
  const unknown = await resetPassword({ username: newEmail('nobody') });
  assert.equal(unknown.nextStep.resetPasswordStep, 'CONFIRM_RESET_PASSWORD_WITH_CODE');
});

// refreshRefused asserts that confab no longer takes refreshToken.
async function refreshRefused(refreshToken) {
  await assert.rejects(
    cognito(plain).send(new InitiateAuthCommand({ AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: clientId, AuthParameters: { REFRESH_TOKEN: refreshToken } })),
    { name: 'NotAuthorizedException' },
  );
}

test('signOut() revokes the refresh token Amplify held', async () => {
  await freshSignIn(plain, 'out');
  const refreshToken = refreshTokenHeld();
  assert.ok(refreshToken, 'Amplify keeps a refresh token');
  // Still good before the sign-out (the check below can fail for the right reason).
  const ok = await cognito(plain).send(new InitiateAuthCommand({ AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: clientId, AuthParameters: { REFRESH_TOKEN: refreshToken } }));
  assert.ok(ok.AuthenticationResult.AccessToken);
  await signOut();
  assert.equal(refreshTokenHeld(), undefined);
  await refreshRefused(refreshToken);
});

test('signOut({global:true}) revokes every session of the user', async () => {
  await freshSignIn(plain, 'global');
  const refreshToken = refreshTokenHeld();
  assert.ok(refreshToken, 'Amplify keeps a refresh token');
  const { accessToken } = (await fetchAuthSession()).tokens;
  await signOut({ global: true });
  await refreshRefused(refreshToken);
  await assert.rejects(cognito(plain).send(new GetUserCommand({ AccessToken: accessToken.toString() })), { name: 'NotAuthorizedException' });
  const res = await fetch(`${plain.base}/graphql`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: accessToken.toString() },
    body: JSON.stringify({ query: '{ me { userId } }' }),
  });
  assert.equal(res.status, 401, 'the API refuses the revoked access token');
});

test('generateClient with the signed-in session: send, list, and a subscription in order', async () => {
  await freshSignIn(plain, 'chat');
  const client = generateClient();
  const conv = await client.graphql({
    query: 'mutation { createConversation(input: { name: "amplify", participants: [] }) { conversationId } }',
  });
  const c = conv.data.createConversation.conversationId;
  const n = 5;
  const got = [];
  // The subscription is live once Amplify reports the server's start_ack.
  const acked = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no start_ack')), 20_000);
    const stop = Hub.listen('api', ({ payload }) => {
      if (payload.event === 'Subscription ack') { clearTimeout(timer); stop(); resolve(); }
    });
  });
  let sub;
  const received = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${got.length} of ${n} messages`)), 20_000);
    sub = client.graphql({
      query: 'subscription S($c: ID!) { onMessageSent(conversationId: $c) { seq content } }',
      variables: { c },
    }).subscribe({
      next: ({ data }) => {
        got.push(data.onMessageSent);
        if (got.length === n) { clearTimeout(timer); resolve(); }
      },
      error: (e) => { clearTimeout(timer); reject(new Error(JSON.stringify(e))); },
    });
  });
  await acked;
  for (let i = 1; i <= n; i++) {
    await client.graphql({
      query: 'mutation M($c: ID!, $t: String!) { sendMessage(input: { conversationId: $c, content: $t }) { seq } }',
      variables: { c, t: `hello ${i}` },
    });
  }
  await received;
  sub.unsubscribe();
  assert.deepEqual(got.map((m) => m.seq), [1, 2, 3, 4, 5]);
  assert.deepEqual(got.map((m) => m.content), [1, 2, 3, 4, 5].map((i) => `hello ${i}`));
  const list = await client.graphql({
    query: 'query L($c: ID!) { listMessages(conversationId: $c, limit: 10) { items { seq content } } }',
    variables: { c },
  });
  assert.deepEqual(list.data.listMessages.items.map((m) => m.seq).sort(), [1, 2, 3, 4, 5]);
  await signOut();
});

test('a global sign-out closes the live subscription of that user', async () => {
  await freshSignIn(plain, 'live');
  const client = generateClient();
  const conv = await client.graphql({ query: 'mutation { createConversation(input: { name: "live", participants: [] }) { conversationId } }' });
  const { accessToken } = (await fetchAuthSession()).tokens;
  const events = [];
  let acked;
  const ack = new Promise((r) => { acked = r; });
  let disrupted;
  const closed = new Promise((r) => { disrupted = r; });
  const stop = Hub.listen('api', ({ payload }) => {
    events.push(payload.event === 'ConnectionStateChange' ? payload.data.connectionState : payload.event);
    if (payload.event === 'Subscription ack') acked();
    if (payload.event === 'ConnectionStateChange' && payload.data.connectionState !== 'Connected' && events.includes('Subscription ack')) disrupted('state ' + payload.data.connectionState);
  });
  const sub = client.graphql({
    query: 'subscription S($c: ID!) { onMessageSent(conversationId: $c) { seq } }',
    variables: { c: conv.data.createConversation.conversationId },
  }).subscribe({ next: () => {}, error: (e) => disrupted('error ' + JSON.stringify(e)) });
  await ack;
  await cognito(plain).send(new GlobalSignOutCommand({ AccessToken: accessToken.toString() }));
  const why = await Promise.race([closed, new Promise((r) => setTimeout(() => r(null), 15_000))]);
  stop();
  sub.unsubscribe();
  assert.ok(why, `the subscription stayed connected after the global sign-out (events: ${events.join(', ')})`);
  await signOut().catch(() => {});
});

test("the demo users and a user from `confab user create` sign in with Amplify's default SRP", async (t) => {
  await signOut().catch(() => {});
  const data = 'demo';
  execFileSync(build(tmp.dir), ['user', 'create', '--data', join(tmp.dir, data), '--email', 'cli@example.com', '--password', 'CliPassw0rd!'], { encoding: 'utf8' });
  const demo = await startConfab(tmp.dir, data, ['--demo']);
  t.after(() => demo.stop());
  trust([plain.ca, mailing.ca, demo.ca]);
  use(demo);
  for (const [username, password] of [['testuser1@example.com', 'TestPassword123!'], ['testuser2', 'TestPassword123!'], ['cli@example.com', 'CliPassw0rd!']]) {
    const r = await signIn({ username, password });
    assert.equal(r.isSignedIn, true, `${username}: ${JSON.stringify(r)}`);
    await signOut();
  }
});
