// Roles and what they allow (issue 15), as the server decides it, so the
// client shows only the actions a member may take; the server checks again
// and answers FORBIDDEN otherwise. Pure functions.

import type { Conversation, ConversationChange, Invitation, Member, Role } from '../api';
import { fullTime, shortTime } from '../util';

/** The roles, highest first. */
export const roles: readonly Role[] = ['OWNER', 'ADMIN', 'MEMBER', 'READ_ONLY'];

export const roleNames: Record<Role, string> = { OWNER: 'Owner', ADMIN: 'Admin', MEMBER: 'Member', READ_ONLY: 'Read only' };

/** A role's rank: higher is more; -1 for none (not a member). */
export function rank(r: Role | null | undefined): number {
  return r ? roles.length - 1 - roles.indexOf(r) : -1;
}

/** Whether role r reaches min. */
export function atLeast(r: Role | null | undefined, min: Role): boolean {
  return rank(r) >= rank(min);
}

/** Who acts: their role in the conversation and whether they are a server administrator. */
export interface Actor {
  userId: string;
  role: Role | null | undefined;
  serverAdmin: boolean;
}

/** Moderators: the conversation's admins and owner, and server administrators. */
export function isModerator(a: Actor): boolean {
  return a.serverAdmin || atLeast(a.role, 'ADMIN');
}

/** What the actor may do to one member of conv. */
export interface MemberActions {
  remove: boolean;
  /** Roles the actor may give the member (their current one left out). */
  setRole: Role[];
  transfer: boolean;
  /** Mute, unmute and ban. */
  moderate: boolean;
}

const none: MemberActions = { remove: false, setRole: [], transfer: false, moderate: false };

/** A member's actions for the actor: admins act on members below their own
 *  role and give roles below it; the owner also hands over ownership; a
 *  server administrator acts on anyone but the owner. Nothing in a direct
 *  or archived conversation, and nothing on oneself (one leaves instead). */
export function memberActions(a: Actor, conv: Pick<Conversation, 'direct' | 'archivedAt'>, m: Member): MemberActions {
  if (m.userId === a.userId || conv.archivedAt) return none;
  const over = atLeast(a.role, 'ADMIN') && rank(m.role) < rank(a.role);
  const allowed = over || (a.serverAdmin && m.role !== 'OWNER');
  if (!allowed) return none;
  const top = a.serverAdmin ? rank('ADMIN') : rank(a.role) - 1;
  return {
    remove: !conv.direct,
    setRole: conv.direct ? [] : roles.filter((r) => r !== 'OWNER' && rank(r) <= top && r !== m.role),
    transfer: a.role === 'OWNER' && !conv.direct,
    moderate: true,
  };
}

/** Whether the actor may add people to conv. */
export function canAdd(a: Actor, conv: Pick<Conversation, 'direct' | 'archivedAt' | 'settings'>): boolean {
  if (conv.direct || conv.archivedAt) return false;
  return atLeast(a.role, conv.settings?.addMembers ?? 'MEMBER');
}

/** Whether the actor may change conv's settings. */
export function canEditSettings(a: Actor, conv: Pick<Conversation, 'archivedAt'>): boolean {
  return !conv.archivedAt && atLeast(a.role, 'ADMIN');
}

/** Why the caller cannot post in conv, or null when they can (or their role
 *  is not known yet: the server's answer then says). */
export function composerBlock(conv: Pick<Conversation, 'archivedAt' | 'settings' | 'myRole'>, mutedUntil: string | null | undefined, now: number): string | null {
  if (conv.archivedAt) return `An administrator archived this conversation on ${shortTime(conv.archivedAt)}: it is read-only.`;
  const role = conv.myRole;
  if (!role) return null;
  if (role === 'READ_ONLY') return 'You can read this conversation but not post in it.';
  const post = conv.settings?.post ?? 'MEMBER';
  if (!atLeast(role, post)) {
    return post === 'ADMIN' || post === 'OWNER' ? 'This is an announcement conversation: only its admins post.' : 'Your role does not let you post here.';
  }
  if (mutedUntil && Date.parse(mutedUntil) > now) return `A moderator muted you until ${fullTime(mutedUntil)}.`;
  return null;
}

/** Whether the caller may react in conv: the react setting, not archived,
 *  not muted (true while their role is not known: the server then says). */
export function canReact(conv: Pick<Conversation, 'archivedAt' | 'settings' | 'myRole'>, mutedUntil: string | null | undefined, now: number): boolean {
  if (conv.archivedAt) return false;
  if (!conv.myRole) return true;
  if (mutedUntil && Date.parse(mutedUntil) > now) return false;
  return atLeast(conv.myRole, conv.settings?.react ?? 'READ_ONLY');
}

/** Whether conv (as the server sent it) no longer has userId as a member. */
export function removedFrom(conv: Pick<Conversation, 'participants'>, userId: string): boolean {
  return !conv.participants.includes(userId);
}

/** The durations offered for a mute or a ban, in minutes (0: for good, bans only). */
export const durations: readonly { label: string; minutes: number }[] = [
  { label: '15 minutes', minutes: 15 },
  { label: '1 hour', minutes: 60 },
  { label: '8 hours', minutes: 8 * 60 },
  { label: '1 day', minutes: 24 * 60 },
  { label: '1 week', minutes: 7 * 24 * 60 },
  { label: 'For good', minutes: 0 },
];

/** The end of a duration of minutes from now, as the API takes it; null for 0 (for good). */
export function until(now: number, minutes: number): string | null {
  return minutes > 0 ? new Date(now + minutes * 60_000).toISOString() : null;
}

/** Whether m is muted at now. */
export function isMuted(m: Pick<Member, 'mutedUntil'>, now: number): boolean {
  return !!m.mutedUntil && Date.parse(m.mutedUntil) > now;
}

/** Members merged into those shown: one per user, the later copy taking
 *  the earlier's place; new ones after, in the order they came (the
 *  server's pages are in joinedAt order). */
export function mergeMembers(shown: readonly Member[], incoming: readonly Member[]): Member[] {
  const byId = new Map(shown.map((m) => [m.userId, m]));
  for (const m of incoming) byId.set(m.userId, m);
  return [...byId.values()];
}

/** The pending invitations with inv added: one per conversation (the
 *  latest), newest first. */
export function withInvitation(list: readonly Invitation[], inv: Invitation): Invitation[] {
  return [inv, ...list.filter((i) => i.conversationId !== inv.conversationId)].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
}

/** conv after a MEMBER_* change of its log: participants follow joins and
 *  removals, and the caller's role follows their own MEMBER_UPDATED. null
 *  when the change is not about membership. */
export function withMemberChange(conv: Conversation, c: ConversationChange, me: string): Conversation | null {
  const id = c.memberId;
  if (!id) return null;
  switch (c.kind) {
    case 'MEMBER_ADDED':
      return conv.participants.includes(id) ? { ...conv, ...(id === me && c.member ? { myRole: c.member.role } : {}) } : { ...conv, participants: [...conv.participants, id] };
    case 'MEMBER_REMOVED':
      return { ...conv, participants: conv.participants.filter((p) => p !== id) };
    case 'MEMBER_UPDATED':
      return id === me && c.member ? { ...conv, myRole: c.member.role } : conv;
  }
  return null;
}
