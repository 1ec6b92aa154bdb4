package server

import (
	"net/http"
	"time"
)

// BlobPathPrefix is where Config.Blobs is served: the disk blob engine's
// presigned URLs (blob/disk.PathPrefix, which cmd/confab wires here).
const BlobPathPrefix = "/blobs/"

// BlobTransferTimeout bounds one upload or download on the blob URLs, in
// place of ReadTimeout and WriteTimeout, which are sized for API calls: a
// 25 MiB file over a slow phone link takes minutes. A transfer still
// running then is cut off (an upload stores nothing).
const BlobTransferTimeout = 10 * time.Minute

// blobs serves Config.Blobs, the signed PUT and GET of the disk engine,
// with the transfer deadlines. The handler checks the signatures itself:
// no token is asked here, since the URL is the grant.
func (s *Server) blobs() http.Handler {
	if s.cfg.Blobs == nil {
		return http.NotFoundHandler()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		deadline := time.Now().Add(BlobTransferTimeout)
		// Errors mean a writer that cannot set deadlines (tests'
		// recorders); the server's own connections always can.
		_ = rc.SetReadDeadline(deadline)
		_ = rc.SetWriteDeadline(deadline)
		s.cfg.Blobs.ServeHTTP(w, r)
	})
}
