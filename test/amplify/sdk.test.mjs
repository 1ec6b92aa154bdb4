// The AWS SDK v3 Cognito client and Debian's AWS CLI against the real
// confab binary over HTTPS (--tls-self-signed, the certificate trusted
// through AWS_CA_BUNDLE and the SDK's agent): admin operations signed with
// SigV4 by the operator's key pair, the recipe's own user setup commands
// run as written with --endpoint-url, and the wire format's errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  CognitoIdentityProviderClient, AdminCreateUserCommand, AdminSetUserPasswordCommand, AdminGetUserCommand,
  AdminDisableUserCommand, AdminEnableUserCommand, AdminUserGlobalSignOutCommand, AdminDeleteUserCommand,
  ListUsersCommand, DescribeUserPoolCommand, DescribeUserPoolClientCommand, InitiateAuthCommand,
  GetTokensFromRefreshTokenCommand, GetUserCommand, SignUpCommand, ChangePasswordCommand, DeleteUserCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { adminKey, clientId, httpsAgent, startConfab, tempDir, trust, userPoolId } from './harness.mjs';

const run = promisify(execFile);
// Debian's awscli (not a pyenv or pip shim that may stand earlier on PATH).
const awsCLI = process.env.CONFAB_TEST_AWS_CLI || '/usr/bin/aws';
let tmp, server, credsFile;

before(async () => {
  tmp = tempDir();
  // The operator's admin key pair in an AWS shared-credentials file: the
  // server reads it, and so does the AWS CLI below.
  credsFile = join(tmp.dir, 'admin-credentials');
  writeFileSync(credsFile, `[default]\naws_access_key_id = ${adminKey.accessKeyId}\naws_secret_access_key = ${adminKey.secretAccessKey}\n`, { mode: 0o600 });
  server = await startConfab(tmp.dir, 'sdk', ['--admin-credentials-file', credsFile]);
  trust([server.ca]);
});

after(() => {
  server?.stop();
  tmp?.remove();
});

function client(credentials = adminKey) {
  return new CognitoIdentityProviderClient({
    region: 'local', endpoint: `${server.base}/cognito`, credentials,
    requestHandler: { httpsAgent: httpsAgent([server.ca]) },
  });
}

let seq = 0;
const newEmail = (name) => `${name}${++seq}-${Date.now()}@example.com`;

async function passwordSignIn(username, password) {
  const r = await client().send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId, AuthParameters: { USERNAME: username, PASSWORD: password } }));
  assert.ok(r.AuthenticationResult?.AccessToken, JSON.stringify(r));
  return r.AuthenticationResult;
}

test('SDK v3: admin create, permanent password, sign-in, get, list, disable, enable, global sign-out, delete', async () => {
  const c = client();
  const email = newEmail('admin');
  const created = await c.send(new AdminCreateUserCommand({
    UserPoolId: userPoolId, Username: email, TemporaryPassword: 'TempPassword123!', MessageAction: 'SUPPRESS',
    UserAttributes: [{ Name: 'email', Value: email }],
  }));
  assert.equal(created.User.UserStatus, 'FORCE_CHANGE_PASSWORD');
  await c.send(new AdminSetUserPasswordCommand({ UserPoolId: userPoolId, Username: email, Password: 'TestPassword123!', Permanent: true }));
  const got = await c.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: email }));
  assert.equal(got.UserStatus, 'CONFIRMED');
  assert.equal(got.Enabled, true);
  assert.equal(got.UserAttributes.find((a) => a.Name === 'email').Value, email);

  const tokens = await passwordSignIn(email, 'TestPassword123!');
  const me = await c.send(new GetUserCommand({ AccessToken: tokens.AccessToken }));
  assert.equal(me.UserAttributes.find((a) => a.Name === 'email').Value, email);

  const listed = await c.send(new ListUsersCommand({ UserPoolId: userPoolId, Filter: `email = "${email}"` }));
  assert.equal(listed.Users.length, 1);
  assert.equal(listed.Users[0].Username, got.Username);

  await c.send(new AdminDisableUserCommand({ UserPoolId: userPoolId, Username: email }));
  await assert.rejects(passwordSignIn(email, 'TestPassword123!'), { name: 'NotAuthorizedException' });
  await assert.rejects(c.send(new GetTokensFromRefreshTokenCommand({ ClientId: clientId, RefreshToken: tokens.RefreshToken })), { name: 'NotAuthorizedException' });
  await c.send(new AdminEnableUserCommand({ UserPoolId: userPoolId, Username: email }));
  const again = await passwordSignIn(email, 'TestPassword123!');

  await c.send(new AdminUserGlobalSignOutCommand({ UserPoolId: userPoolId, Username: email }));
  await assert.rejects(c.send(new GetTokensFromRefreshTokenCommand({ ClientId: clientId, RefreshToken: again.RefreshToken })), { name: 'NotAuthorizedException' });

  await c.send(new AdminDeleteUserCommand({ UserPoolId: userPoolId, Username: email }));
  await assert.rejects(c.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: email })), { name: 'UserNotFoundException' });
});

test('SDK v3: DescribeUserPool and DescribeUserPoolClient name the configured pool and client', async () => {
  const pool = await client().send(new DescribeUserPoolCommand({ UserPoolId: userPoolId }));
  assert.equal(pool.UserPool.Id, userPoolId);
  const app = await client().send(new DescribeUserPoolClientCommand({ UserPoolId: userPoolId, ClientId: clientId }));
  assert.equal(app.UserPoolClient.ClientId, clientId);
});

test('SDK v3: the user operations (sign-up, refresh, change password, delete)', async () => {
  const c = client();
  const email = newEmail('self');
  const up = await c.send(new SignUpCommand({ ClientId: clientId, Username: email, Password: 'Passw0rd!x', UserAttributes: [{ Name: 'email', Value: email }] }));
  assert.equal(up.UserConfirmed, true);
  const t = await passwordSignIn(email, 'Passw0rd!x');
  const refreshed = await c.send(new GetTokensFromRefreshTokenCommand({ ClientId: clientId, RefreshToken: t.RefreshToken }));
  assert.ok(refreshed.AuthenticationResult.AccessToken);
  await assert.rejects(c.send(new ChangePasswordCommand({ AccessToken: t.AccessToken, PreviousPassword: 'wrong-Passw0rd', ProposedPassword: 'N3wPassw0rd!' })), { name: 'NotAuthorizedException' });
  await assert.rejects(c.send(new ChangePasswordCommand({ AccessToken: t.AccessToken, PreviousPassword: 'Passw0rd!x', ProposedPassword: 'short' })), { name: 'InvalidPasswordException' });
  await c.send(new ChangePasswordCommand({ AccessToken: t.AccessToken, PreviousPassword: 'Passw0rd!x', ProposedPassword: 'N3wPassw0rd!' }));
  const t2 = await passwordSignIn(email, 'N3wPassw0rd!');
  await c.send(new DeleteUserCommand({ AccessToken: t2.AccessToken }));
  await assert.rejects(passwordSignIn(email, 'N3wPassw0rd!'), { name: 'NotAuthorizedException' });
});

test('SDK v3: admin calls signed with another secret, or not at all, are refused', async () => {
  const wrong = client({ accessKeyId: adminKey.accessKeyId, secretAccessKey: 'not-the-secret' });
  await assert.rejects(wrong.send(new ListUsersCommand({ UserPoolId: userPoolId })),
    (e) => ['NotAuthorizedException', 'AccessDeniedException'].includes(e.name));
  const unknownKey = client({ accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: adminKey.secretAccessKey });
  await assert.rejects(unknownKey.send(new ListUsersCommand({ UserPoolId: userPoolId })),
    (e) => ['NotAuthorizedException', 'AccessDeniedException', 'UnrecognizedClientException'].includes(e.name));
  const res = await post('AdminCreateUser', { UserPoolId: userPoolId, Username: newEmail('unsigned'), MessageAction: 'SUPPRESS' });
  assert.ok(['NotAuthorizedException', 'AccessDeniedException'].includes(res.type), JSON.stringify(res));
});

// post sends one raw AWS JSON 1.1 request, as Amplify does (no signature).
async function post(op, body, path = '/cognito') {
  const res = await fetch(`${server.base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AWSCognitoIdentityProviderService.${op}` },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { assert.fail(`non-JSON body (${res.status}): ${text}`); }
  return { status: res.status, header: res.headers.get('x-amzn-errortype'), type: json.__type, json };
}

test('wire format: errors are 400 with x-amzn-ErrorType and {__type, message}, at /cognito and /cognito/', async () => {
  for (const path of ['/cognito', '/cognito/']) {
    const unknown = await post('NoSuchOperation', {}, path);
    assert.equal(unknown.status, 400);
    assert.equal(unknown.type, 'UnknownOperationException');
    assert.match(unknown.header, /^UnknownOperationException/);
    const bad = await post('InitiateAuth', { AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId, AuthParameters: { USERNAME: 'nobody@example.com', PASSWORD: 'Passw0rd!x' } }, path);
    assert.equal(bad.status, 400);
    assert.equal(bad.type, 'NotAuthorizedException');
    assert.equal(typeof bad.json.message, 'string');
  }
  const wrongClient = await post('InitiateAuth', { AuthFlow: 'USER_PASSWORD_AUTH', ClientId: 'other', AuthParameters: { USERNAME: 'a@example.com', PASSWORD: 'x' } });
  assert.equal(wrongClient.type, 'ResourceNotFoundException');
});

test("AWS CLI: the recipe's admin-create-user and admin-set-user-password, as written, with --endpoint-url", async (t) => {
  // A server of its own: the sign-in failures of the tests above count
  // against this address (auth's per-address lockout).
  const server = await startConfab(tmp.dir, 'cli', ['--admin-credentials-file', credsFile]);
  t.after(() => server.stop());
  const passwordSignIn = async (username, password) => {
    const c = new CognitoIdentityProviderClient({ region: 'local', endpoint: `${server.base}/cognito`, credentials: adminKey, requestHandler: { httpsAgent: httpsAgent([server.ca]) } });
    const r = await c.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId, AuthParameters: { USERNAME: username, PASSWORD: password } }));
    assert.ok(r.AuthenticationResult?.AccessToken, JSON.stringify(r));
  };
  const env = {
    PATH: process.env.PATH, HOME: tmp.dir,
    AWS_SHARED_CREDENTIALS_FILE: credsFile, AWS_CONFIG_FILE: join(tmp.dir, 'no-config'),
    AWS_DEFAULT_REGION: 'local', AWS_CA_BUNDLE: server.certFile, AWS_PAGER: '',
  };
  const aws = (...args) => run(awsCLI, ['cognito-idp', ...args, '--endpoint-url', `${server.base}/cognito`], { env });
  const USER_POOL_ID = userPoolId;
  for (const n of [1, 2]) {
    await aws('admin-create-user',
      '--user-pool-id', USER_POOL_ID,
      '--username', `testuser${n}`,
      '--user-attributes', `Name=email,Value=testuser${n}@example.com`,
      '--temporary-password', 'TempPassword123!',
      '--message-action', 'SUPPRESS');
  }
  for (const n of [1, 2]) {
    await aws('admin-set-user-password',
      '--user-pool-id', USER_POOL_ID,
      '--username', `testuser${n}`,
      '--password', 'TestPassword123!',
      '--permanent');
  }
  // The recipe's users sign in by email or by username.
  await passwordSignIn('testuser1@example.com', 'TestPassword123!');
  await passwordSignIn('testuser2', 'TestPassword123!');
  const { stdout } = await aws('admin-get-user', '--user-pool-id', USER_POOL_ID, '--username', 'testuser1');
  assert.equal(JSON.parse(stdout).UserStatus, 'CONFIRMED');
  // A CLI with a wrong secret is refused.
  const wrongCreds = join(tmp.dir, 'wrong-credentials');
  writeFileSync(wrongCreds, `[default]\naws_access_key_id = ${adminKey.accessKeyId}\naws_secret_access_key = wrong\n`);
  await assert.rejects(
    run(awsCLI, ['cognito-idp', 'admin-get-user', '--user-pool-id', USER_POOL_ID, '--username', 'testuser1', '--endpoint-url', `${server.base}/cognito`],
      { env: { ...env, AWS_SHARED_CREDENTIALS_FILE: wrongCreds } }),
    (e) => /NotAuthorizedException|AccessDeniedException/.test(e.stderr),
  );
});
