import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  atLeast,
  canAdd,
  canReact,
  canEditSettings,
  composerBlock,
  isMuted,
  memberActions,
  mergeMembers,
  rank,
  removedFrom,
  until,
  withInvitation,
  withMemberChange,
} from '../../src/chat/members.ts';
import { waitText } from '../../src/util.ts';
import { conversation, deepFreeze } from './fixtures.mjs';

const member = (userId, role, extra = {}) => ({ userId, role, joinedAt: '2026-01-01T00:00:00Z', lastReadSeq: 0, ...extra });
const actor = (role, serverAdmin = false) => ({ userId: 'me', role, serverAdmin });
const group = deepFreeze(conversation('c1', { direct: false, settings: { addMembers: 'MEMBER', post: 'MEMBER', react: 'MEMBER', slowModeSeconds: 0 } }));

test('roles rank owner > admin > member > read-only > none', () => {
  assert.deepEqual(['OWNER', 'ADMIN', 'MEMBER', 'READ_ONLY', null].map(rank), [3, 2, 1, 0, -1]);
  assert.ok(atLeast('ADMIN', 'MEMBER'));
  assert.ok(!atLeast('MEMBER', 'ADMIN'));
  assert.ok(!atLeast(undefined, 'READ_ONLY'));
});

test('who may do what to a member: the role table', () => {
  const tests = [
    { name: 'owner on admin', a: actor('OWNER'), m: member('x', 'ADMIN'), want: { remove: true, setRole: ['MEMBER', 'READ_ONLY'], transfer: true, moderate: true } },
    { name: 'owner on member', a: actor('OWNER'), m: member('x', 'MEMBER'), want: { remove: true, setRole: ['ADMIN', 'READ_ONLY'], transfer: true, moderate: true } },
    { name: 'admin on member', a: actor('ADMIN'), m: member('x', 'MEMBER'), want: { remove: true, setRole: ['READ_ONLY'], transfer: false, moderate: true } },
    { name: 'admin on read-only', a: actor('ADMIN'), m: member('x', 'READ_ONLY'), want: { remove: true, setRole: ['MEMBER'], transfer: false, moderate: true } },
    { name: 'admin on admin', a: actor('ADMIN'), m: member('x', 'ADMIN'), want: { remove: false, setRole: [], transfer: false, moderate: false } },
    { name: 'admin on owner', a: actor('ADMIN'), m: member('x', 'OWNER'), want: { remove: false, setRole: [], transfer: false, moderate: false } },
    { name: 'member on read-only', a: actor('MEMBER'), m: member('x', 'READ_ONLY'), want: { remove: false, setRole: [], transfer: false, moderate: false } },
    { name: 'owner on self', a: actor('OWNER'), m: member('me', 'OWNER'), want: { remove: false, setRole: [], transfer: false, moderate: false } },
    { name: 'server admin, not a member, on admin', a: actor(null, true), m: member('x', 'ADMIN'), want: { remove: true, setRole: ['MEMBER', 'READ_ONLY'], transfer: false, moderate: true } },
    { name: 'server admin on owner', a: actor(null, true), m: member('x', 'OWNER'), want: { remove: false, setRole: [], transfer: false, moderate: false } },
  ];
  for (const tt of tests) assert.deepEqual(memberActions(tt.a, group, tt.m), tt.want, tt.name);
});

test('direct and archived conversations: no removals, roles or transfers', () => {
  const direct = conversation('d', { direct: true });
  assert.deepEqual(memberActions(actor('OWNER'), direct, member('x', 'MEMBER')), { remove: false, setRole: [], transfer: false, moderate: true });
  assert.ok(!canAdd(actor('OWNER'), direct));
  const archived = conversation('a', { archivedAt: '2026-02-01T00:00:00Z' });
  assert.equal(memberActions(actor('OWNER'), archived, member('x', 'MEMBER')).moderate, false);
  assert.ok(!canAdd(actor('OWNER'), archived));
  assert.ok(!canEditSettings(actor('OWNER'), archived));
});

test('adding people follows the addMembers setting; settings are for admins', () => {
  const adminsAdd = conversation('c', { settings: { addMembers: 'ADMIN', post: 'MEMBER', react: 'MEMBER', slowModeSeconds: 0 } });
  assert.ok(canAdd(actor('MEMBER'), group));
  assert.ok(!canAdd(actor('READ_ONLY'), group));
  assert.ok(!canAdd(actor('MEMBER'), adminsAdd));
  assert.ok(canAdd(actor('ADMIN'), adminsAdd));
  assert.ok(canEditSettings(actor('ADMIN'), group));
  assert.ok(!canEditSettings(actor('MEMBER'), group));
});

test('the composer says why it is disabled', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  const announce = { addMembers: 'ADMIN', post: 'ADMIN', react: 'MEMBER', slowModeSeconds: 0 };
  const tests = [
    { name: 'member may post', conv: { ...group, myRole: 'MEMBER' }, muted: null, want: null },
    { name: 'role not known yet', conv: { ...group, myRole: null }, muted: null, want: null },
    { name: 'archived', conv: { ...group, myRole: 'OWNER', archivedAt: '2026-01-01T10:00:00Z' }, muted: null, want: /archived/ },
    { name: 'read only', conv: { ...group, myRole: 'READ_ONLY' }, muted: null, want: /read this conversation but not post/ },
    { name: 'announcement, member', conv: { ...group, settings: announce, myRole: 'MEMBER' }, muted: null, want: /announcement/ },
    { name: 'announcement, admin', conv: { ...group, settings: announce, myRole: 'ADMIN' }, muted: null, want: null },
    { name: 'muted', conv: { ...group, myRole: 'MEMBER' }, muted: '2026-01-01T13:00:00Z', want: /muted you until/ },
    { name: 'mute over', conv: { ...group, myRole: 'MEMBER' }, muted: '2026-01-01T11:00:00Z', want: null },
  ];
  for (const tt of tests) {
    const got = composerBlock(tt.conv, tt.muted, now);
    if (tt.want === null) assert.equal(got, null, tt.name);
    else assert.match(got, tt.want, tt.name);
  }
});

test('removal: the caller is no longer among the participants', () => {
  assert.ok(removedFrom(conversation('c', { participants: ['you'] }), 'me'));
  assert.ok(!removedFrom(conversation('c'), 'me'));
});

test('durations: an end time, or null for good; muted until then', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(until(now, 60), '2026-01-01T01:00:00.000Z');
  assert.equal(until(now, 0), null);
  assert.ok(isMuted({ mutedUntil: until(now, 15) }, now));
  assert.ok(!isMuted({ mutedUntil: until(now, 15) }, now + 15 * 60_000));
  assert.ok(!isMuted({ mutedUntil: null }, now));
});

test('member pages merge one per user, the later copy in its place, new ones after in page order', () => {
  const shown = deepFreeze([member('a', 'OWNER'), member('b', 'MEMBER')]);
  const got = mergeMembers(shown, [member('d', 'MEMBER'), member('b', 'ADMIN'), member('c', 'MEMBER')]);
  assert.deepEqual(got.map((m) => `${m.userId}:${m.role}`), ['a:OWNER', 'b:ADMIN', 'd:MEMBER', 'c:MEMBER']);
});

test('invitations: one per conversation, newest first', () => {
  const inv = (c, at) => ({ conversationId: c, invitedBy: 'x', role: 'MEMBER', createdAt: at });
  let list = [];
  list = withInvitation(list, inv('c1', '2026-01-01T00:00:00Z'));
  list = withInvitation(list, inv('c2', '2026-01-02T00:00:00Z'));
  list = withInvitation(list, inv('c1', '2026-01-03T00:00:00Z'));
  assert.deepEqual(list.map((i) => `${i.conversationId}@${i.createdAt.slice(8, 10)}`), ['c1@03', 'c2@02']);
});

test('member changes of the log move participants and the caller role', () => {
  const conv = deepFreeze(conversation('c1', { participants: ['me', 'you'], myRole: 'MEMBER' }));
  const ch = (kind, memberId, member = null) => ({ changeSeq: 1, kind, at: '2026-01-01T00:00:00Z', userId: 'x', memberId, member });
  assert.deepEqual(withMemberChange(conv, ch('MEMBER_ADDED', 'new', member('new', 'MEMBER')), 'me').participants, ['me', 'you', 'new']);
  assert.deepEqual(withMemberChange(conv, ch('MEMBER_ADDED', 'you', member('you', 'MEMBER')), 'me').participants, ['me', 'you']);
  assert.deepEqual(withMemberChange(conv, ch('MEMBER_REMOVED', 'you'), 'me').participants, ['me']);
  assert.equal(withMemberChange(conv, ch('MEMBER_UPDATED', 'me', member('me', 'ADMIN')), 'me').myRole, 'ADMIN');
  assert.equal(withMemberChange(conv, ch('MEMBER_UPDATED', 'you', member('you', 'ADMIN')), 'me').myRole, 'MEMBER');
  assert.equal(withMemberChange(conv, { changeSeq: 1, kind: 'MESSAGE_SENT', at: '', userId: 'x' }, 'me'), null);
});

test('a wait the server asks for reads in the largest unit, rounded up', () => {
  const tests = [
    [1, '1 second'],
    [4.2, '5 seconds'],
    [59, '59 seconds'],
    [60, '1 minute'],
    [61, '2 minutes'],
    [3600, '1 hour'],
    [21600, '6 hours'],
  ];
  for (const [s, want] of tests) assert.equal(waitText(s), want, `${s} s`);
});

test('reacting follows the react setting, a mute and the archive', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  const membersReact = { ...group, myRole: 'MEMBER' };
  const adminsReact = { ...group, myRole: 'MEMBER', settings: { ...group.settings, react: 'ADMIN' } };
  assert.ok(canReact(membersReact, null, now));
  assert.ok(!canReact(adminsReact, null, now));
  assert.ok(canReact({ ...adminsReact, myRole: 'ADMIN' }, null, now));
  assert.ok(!canReact(membersReact, '2026-01-01T13:00:00Z', now));
  assert.ok(canReact(membersReact, '2026-01-01T11:00:00Z', now));
  assert.ok(!canReact({ ...membersReact, archivedAt: '2026-01-01T00:00:00Z' }, null, now));
  assert.ok(canReact({ ...group, myRole: null }, null, now));
});
