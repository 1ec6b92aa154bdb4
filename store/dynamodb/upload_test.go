package dynamodb_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/store/dynamodb"
)

// newUpload inserts a ready upload of the user to the conversation,
// created at and expiring an hour later.
func newUpload(t *testing.T, s *dynamodb.Store, id, userID, conversationID string, at time.Time) *confab.Upload {
	t.Helper()
	u := &confab.Upload{UploadID: id, UserID: userID, ConversationID: conversationID, FileName: "a.pdf",
		ContentType: "application/pdf", Size: 10, CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
	if err := s.InsertUpload(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	u.Ready = true
	if err := s.MarkUploadReady(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

// Two nodes attach the same upload to two messages at once: both may read
// it unattached, so the transaction's condition decides; exactly one
// wins, and only its message lists the upload.
func TestAttachUploads_TwoNodesOneWins(t *testing.T) {
	prefix := freshPrefix(t)
	nodes := []*dynamodb.Store{openPrefix(t, prefix), openPrefix(t, prefix)}
	userID, convID := seed(t, nodes[0])
	for round := range 5 {
		up := newUpload(t, nodes[0], fmt.Sprintf("up-%d", round), userID, convID, t0)
		errs := make([]error, len(nodes))
		var wg sync.WaitGroup
		for i, n := range nodes {
			wg.Go(func() {
				errs[i] = n.AttachUploads(t.Context(), []string{up.UploadID}, userID, convID, fmt.Sprintf("m-%d-%d", round, i), t0)
			})
		}
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner < 0:
				winner = i
			case err == nil:
				t.Fatalf("round %d: both nodes attached the upload", round)
			case confab.ErrorCode(err) != confab.CodeConflict:
				t.Fatalf("round %d: node %d: %v, want CONFLICT", round, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: neither node attached the upload: %v", round, errs)
		}
		ids := []string{fmt.Sprintf("m-%d-0", round), fmt.Sprintf("m-%d-1", round)}
		got, err := nodes[1].ListMessageUploads(t.Context(), convID, ids)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || len(got[ids[winner]]) != 1 || got[ids[winner]][0].MessageID != ids[winner] {
			t.Fatalf("round %d: ListMessageUploads = %v, want the upload under %s only", round, got, ids[winner])
		}
	}
}

// Expired uploads spread over the expiry shards are listed up to the
// limit, each once; attached ones are not; a detached one is again.
func TestListDeadUploads_ShardsLimitAndDetach(t *testing.T) {
	s := open(t)
	ctx := t.Context()
	userID, convID := seed(t, s)
	var want []string
	for i := range 30 {
		want = append(want, newUpload(t, s, fmt.Sprintf("up-%02d", i), userID, convID, t0.Add(time.Duration(i)*time.Second)).UploadID)
	}
	attached := newUpload(t, s, "up-attached", userID, convID, t0)
	if err := s.AttachUploads(ctx, []string{attached.UploadID}, userID, convID, "m-1", t0); err != nil {
		t.Fatal(err)
	}
	after := t0.Add(2 * time.Hour)
	var seen []string
	for {
		dead, err := s.ListDeadUploads(ctx, after, 12)
		if err != nil {
			t.Fatal(err)
		}
		if len(dead) > 12 {
			t.Fatalf("%d dead uploads, limit 12", len(dead))
		}
		if len(dead) == 0 {
			break
		}
		for _, u := range dead {
			if slices.Contains(seen, u.UploadID) {
				t.Fatalf("%s listed again after its deletion", u.UploadID)
			}
			seen = append(seen, u.UploadID)
			if err := s.DeleteUpload(ctx, u.UploadID); err != nil {
				t.Fatal(err)
			}
		}
	}
	slices.Sort(seen)
	if !slices.Equal(seen, want) {
		t.Fatalf("dead %v, want the 30 unattached ones %v", seen, want)
	}
	if err := s.DetachUploads(ctx, "m-1"); err != nil {
		t.Fatal(err)
	}
	dead, err := s.ListDeadUploads(ctx, after, 12)
	if err != nil || len(dead) != 1 || dead[0].UploadID != attached.UploadID || dead[0].MessageID != "" {
		t.Fatalf("after detach: %v, %v; want the detached upload, unattached", dead, err)
	}
	if n, err := s.SumUploadBytes(ctx, userID, t0); err != nil || n != 10 {
		t.Fatalf("SumUploadBytes = %d, %v; want 10 (only the upload left)", n, err)
	}
}
