package realtime

// CloseUser ends every live connection of the user the way an expired
// token does: with the protocol's auth close (AppSync 4401, graphql-ws
// 4403), so clients reconnect with fresh tokens or sign in again. The
// server calls it when the user's sign-ins are revoked (sign-out
// everywhere, a revoked refresh token, a disabled or deleted account). It
// fires each connection's token-expiry timer at once, so the protocol
// decides how to close, and does not wait for the closes.
func (h *Hub) CloseUser(userID string) {
	for _, c := range h.snapshot() {
		c.mu.Lock()
		if !c.closed && c.identity.UserID == userID && c.timer != nil {
			c.timer.Reset(0)
		}
		c.mu.Unlock()
	}
}
