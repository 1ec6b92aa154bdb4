// The admin API (issue 15): server administrators only (User.isAdmin);
// everyone else gets FORBIDDEN. Every action lands in the audit log.

import { conversationFields, gql, memberFields, userFields, type Conversation, type Member, type Page, type User } from './api';

export interface Ban {
  conversationId?: string | null;
  userId: string;
  bannedBy: string;
  reason?: string | null;
  createdAt: string;
  /** Null: for good. */
  until?: string | null;
}

export interface AdminUser {
  user: User;
  email: string;
  disabled: boolean;
  ban?: Ban | null;
}

export type ReportStatus = 'OPEN' | 'RESOLVED' | 'DISMISSED';

export interface Report {
  reportId: string;
  reporterId: string;
  userId: string;
  conversationId?: string | null;
  messageId?: string | null;
  message?: { messageId: string; content: string; userId: string; createdAt: string; deletedAt?: string | null } | null;
  reason: string;
  createdAt: string;
  status: ReportStatus;
  resolvedBy?: string | null;
  resolvedAt?: string | null;
  resolution?: string | null;
}

export interface AuditEntry {
  entryId: string;
  at: string;
  actorId?: string | null;
  action: string;
  conversationId?: string | null;
  userId?: string | null;
  messageId?: string | null;
  reason?: string | null;
  until?: string | null;
  detail?: string | null;
}

export interface DayCount {
  day: string;
  count: number;
}

export interface Usage {
  from: string;
  to: string;
  messagesPerDay: DayCount[];
  activeUsersPerDay: DayCount[];
  activeUsersPerWeek: DayCount[];
  topConversations: { conversationId: string; name?: string | null; messages: number }[];
  users: number;
  conversations: number;
  storageBytes: number;
}

/** A conversation as an admin inspects it, members included. */
export interface AdminConversation extends Conversation {
  members: Page<Member>;
}

const banFields = 'conversationId userId bannedBy reason createdAt until';
const adminUserFields = `user { ${userFields} isAdmin } email disabled ban { ${banFields} }`;
const reportFields =
  'reportId reporterId userId conversationId messageId reason createdAt status resolvedBy resolvedAt resolution ' +
  'message { messageId content userId createdAt deletedAt }';
const auditFields = 'entryId at actorId action conversationId userId messageId reason until detail';

function page<T>(c: { items: T[] | null; nextToken: string | null } | null | undefined): Page<T> {
  return { items: c?.items ?? [], nextToken: c?.nextToken ?? null };
}

export const adminApi = {
  async users(search: string | null, nextToken?: string | null, limit = 50): Promise<Page<AdminUser>> {
    const d = await gql<{ adminUsers: Page<AdminUser> }>(
      `query AdminUsers($s: String, $limit: Int, $next: String) { adminUsers(search: $s, limit: $limit, nextToken: $next) { items { ${adminUserFields} } nextToken } }`,
      { s: search || null, limit, next: nextToken ?? null },
    );
    return page(d.adminUsers);
  },

  async setDisabled(userId: string, disabled: boolean, reason?: string): Promise<AdminUser> {
    const d = await gql<{ adminSetUserDisabled: AdminUser }>(
      `mutation Disable($u: ID!, $d: Boolean!, $reason: String) { adminSetUserDisabled(userId: $u, disabled: $d, reason: $reason) { ${adminUserFields} } }`,
      { u: userId, d: disabled, reason: reason || null },
    );
    return d.adminSetUserDisabled;
  },

  async deleteUser(userId: string, deleteMessages: boolean, reason?: string): Promise<void> {
    await gql(`mutation DeleteUser($u: ID!, $m: Boolean!, $reason: String) { adminDeleteUser(userId: $u, deleteMessages: $m, reason: $reason) }`, {
      u: userId,
      m: deleteMessages,
      reason: reason || null,
    });
  },

  /** The temporary password, shown once. */
  async resetPassword(userId: string): Promise<string> {
    const d = await gql<{ adminResetPassword: string }>(`mutation Reset($u: ID!) { adminResetPassword(userId: $u) }`, { u: userId });
    return d.adminResetPassword;
  },

  async signOut(userId: string): Promise<void> {
    await gql(`mutation SignOut($u: ID!) { adminSignOutUser(userId: $u) }`, { u: userId });
  },

  async setAdmin(userId: string, admin: boolean): Promise<AdminUser> {
    const d = await gql<{ adminSetAdmin: AdminUser }>(`mutation SetAdmin($u: ID!, $a: Boolean!) { adminSetAdmin(userId: $u, admin: $a) { ${adminUserFields} } }`, {
      u: userId,
      a: admin,
    });
    return d.adminSetAdmin;
  },

  async ban(userId: string, until: string | null, reason?: string): Promise<AdminUser> {
    const d = await gql<{ adminBanUser: AdminUser }>(
      `mutation BanUser($u: ID!, $until: AWSDateTime, $reason: String) { adminBanUser(userId: $u, until: $until, reason: $reason) { ${adminUserFields} } }`,
      { u: userId, until, reason: reason || null },
    );
    return d.adminBanUser;
  },

  async unban(userId: string): Promise<AdminUser> {
    const d = await gql<{ adminUnbanUser: AdminUser }>(`mutation UnbanUser($u: ID!) { adminUnbanUser(userId: $u) { ${adminUserFields} } }`, { u: userId });
    return d.adminUnbanUser;
  },

  async conversations(nextToken?: string | null, limit = 50): Promise<Page<Conversation>> {
    const d = await gql<{ adminConversations: Page<Conversation> }>(
      `query AdminConversations($limit: Int, $next: String) { adminConversations(limit: $limit, nextToken: $next) { items { ${conversationFields} } nextToken } }`,
      { limit, next: nextToken ?? null },
    );
    return page(d.adminConversations);
  },

  async conversation(conversationId: string): Promise<AdminConversation | null> {
    const d = await gql<{ adminConversation: AdminConversation | null }>(
      `query AdminConversation($c: ID!) { adminConversation(conversationId: $c) { ${conversationFields} members(limit: 100) { items { ${memberFields} } nextToken } } }`,
      { c: conversationId },
    );
    return d.adminConversation;
  },

  async archive(conversationId: string, archived: boolean): Promise<Conversation> {
    const d = await gql<{ adminArchiveConversation: Conversation }>(
      `mutation Archive($c: ID!, $a: Boolean!) { adminArchiveConversation(conversationId: $c, archived: $a) { ${conversationFields} } }`,
      { c: conversationId, a: archived },
    );
    return d.adminArchiveConversation;
  },

  async deleteConversation(conversationId: string, reason?: string): Promise<void> {
    await gql(`mutation DeleteConversation($c: ID!, $reason: String) { adminDeleteConversation(conversationId: $c, reason: $reason) }`, {
      c: conversationId,
      reason: reason || null,
    });
  },

  async reports(status: ReportStatus | null, nextToken?: string | null, limit = 50): Promise<Page<Report>> {
    const d = await gql<{ adminReports: Page<Report> }>(
      `query Reports($s: ReportStatus, $limit: Int, $next: String) { adminReports(status: $s, limit: $limit, nextToken: $next) { items { ${reportFields} } nextToken } }`,
      { s: status, limit, next: nextToken ?? null },
    );
    return page(d.adminReports);
  },

  async resolveReport(reportId: string, status: ReportStatus, resolution?: string): Promise<Report> {
    const d = await gql<{ adminResolveReport: Report }>(
      `mutation Resolve($r: ID!, $s: ReportStatus!, $res: String) { adminResolveReport(reportId: $r, status: $s, resolution: $res) { ${reportFields} } }`,
      { r: reportId, s: status, res: resolution || null },
    );
    return d.adminResolveReport;
  },

  async auditLog(nextToken?: string | null, limit = 50): Promise<Page<AuditEntry>> {
    const d = await gql<{ adminAuditLog: Page<AuditEntry> }>(
      `query Audit($limit: Int, $next: String) { adminAuditLog(limit: $limit, nextToken: $next) { items { ${auditFields} } nextToken } }`,
      { limit, next: nextToken ?? null },
    );
    return page(d.adminAuditLog);
  },

  async usage(days = 30, top = 10): Promise<Usage> {
    const d = await gql<{ adminUsage: Usage }>(
      `query Usage($days: Int, $top: Int) { adminUsage(days: $days, top: $top) {
        from to messagesPerDay { day count } activeUsersPerDay { day count } activeUsersPerWeek { day count }
        topConversations { conversationId name messages } users conversations storageBytes } }`,
      { days, top },
    );
    return d.adminUsage;
  },
};
