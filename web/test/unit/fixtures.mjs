// Test data shared by the unit tests.

export const message = (messageId, content, seq = 1, extra = {}) => ({
  messageId,
  conversationId: 'c1',
  userId: 'me',
  content,
  messageType: 'TEXT',
  createdAt: '2026-01-01T00:00:00Z',
  seq,
  ...extra,
});

export const conversation = (conversationId, extra = {}) => ({
  conversationId,
  participants: ['me', 'you'],
  createdAt: '2026-01-01T00:00:00Z',
  createdBy: 'me',
  lastSeq: 0,
  unreadCount: 0,
  ...extra,
});

/** x and everything in it frozen, so a function that changes it throws. */
export const deepFreeze = (x) => {
  for (const v of Object.values(x)) if (v && typeof v === 'object') deepFreeze(v);
  return Object.freeze(x);
};
