import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiPath, basePathOf, pagePath, routeOf, socketURL, workspaceOf } from '../../src/base.ts';

test('the base path is /w/<id>/ under a workspace, / elsewhere', () => {
  const cases = [
    ['/', '/'],
    ['/c/123', '/'],
    ['/admin', '/'],
    ['/w/acme/', '/w/acme/'],
    ['/w/acme/c/123', '/w/acme/'],
    ['/w/acme/admin', '/w/acme/'],
    ['/w/a-2/', '/w/a-2/'],
    ['/w/acme', '/', 'no slash after the id: the server redirects to /w/acme/'],
    ['/w/Acme/', '/', 'not a workspace id'],
    ['/w/2acme/', '/'],
    ['/w//', '/'],
    ['/x/w/acme/', '/', 'only at the start'],
    ['/w/' + 'a'.repeat(31) + '/', '/w/' + 'a'.repeat(31) + '/'],
    ['/w/' + 'a'.repeat(32) + '/', '/', 'longer than an id'],
  ];
  for (const [pathname, want, why] of cases) assert.equal(basePathOf(pathname), want, why ?? pathname);
});

test('the workspace of a base path', () => {
  assert.equal(workspaceOf('/w/acme/'), 'acme');
  assert.equal(workspaceOf('/'), '');
});

test('endpoints are under the base', () => {
  assert.equal(apiPath('graphql', '/'), '/graphql');
  assert.equal(apiPath('/graphql', '/'), '/graphql');
  assert.equal(apiPath('graphql', '/w/acme/'), '/w/acme/graphql');
  assert.equal(apiPath('/auth/signup', '/w/acme/'), '/w/acme/auth/signup');
  assert.equal(apiPath('sw.js', '/w/acme/'), '/w/acme/sw.js');
  assert.equal(socketURL('graphql', { protocol: 'https:', host: 'chat.example.com' }, '/w/acme/'), 'wss://chat.example.com/w/acme/graphql');
  assert.equal(socketURL('graphql', { protocol: 'http:', host: '127.0.0.1:8080' }, '/'), 'ws://127.0.0.1:8080/graphql');
});

test('app routes and addresses map both ways', () => {
  for (const base of ['/', '/w/acme/']) {
    for (const route of ['/', '/c/abc', '/admin']) {
      assert.equal(routeOf(pagePath(route, base), base), route, `${base} ${route}`);
    }
  }
  assert.equal(pagePath('/c/abc', '/w/acme/'), '/w/acme/c/abc');
  assert.equal(pagePath('/', '/w/acme/'), '/w/acme/');
  assert.equal(routeOf('/w/acme', '/w/acme/'), '/');
  assert.equal(routeOf('/elsewhere', '/w/acme/'), '/');
});
