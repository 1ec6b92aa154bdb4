package storetest

import (
	"time"

	"github.com/confab-chat/confab"
	"github.com/google/go-cmp/cmp"
)

var tokenTests = []test{
	{"InsertRefreshToken/RoundTrip", testInsertRefreshTokenRoundTrip},
	{"InsertRefreshToken/DuplicateConflict", testInsertRefreshTokenDuplicate},
	{"GetRefreshToken/NotFound", testGetRefreshTokenNotFound},
	{"RotateRefreshToken/MarksUsedInsertsNext", testRotateRefreshToken},
	{"RotateRefreshToken/ConcurrentExactlyOneWins", testRotateRefreshTokenRace},
	{"RotateRefreshToken/UsedOrRevokedConflict", testRotateRefreshTokenUsedOrRevoked},
	{"RevokeRefreshFamily/OnlyThatFamily", testRevokeRefreshFamily},
}

func (f *fixture) token(userID, family string) *confab.RefreshToken {
	at := f.now()
	return &confab.RefreshToken{Hash: f.id("h"), UserID: userID, FamilyID: family, CreatedAt: at, ExpiresAt: at.Add(30 * 24 * time.Hour)}
}

func (f *fixture) insertToken(tk *confab.RefreshToken) {
	f.t.Helper()
	if err := f.s.InsertRefreshToken(f.ctx, tk); err != nil {
		f.t.Fatalf("InsertRefreshToken: %v", err)
	}
}

func (f *fixture) getToken(hash string) *confab.RefreshToken {
	f.t.Helper()
	tk, err := f.s.GetRefreshToken(f.ctx, hash)
	if err != nil {
		f.t.Fatalf("GetRefreshToken: %v", err)
	}
	return tk
}

func testInsertRefreshTokenRoundTrip(f *fixture) {
	u := f.user("ann")
	tk := f.token(u.UserID, "fam")
	f.insertToken(tk)
	if diff := cmp.Diff(tk, f.getToken(tk.Hash)); diff != "" {
		f.t.Fatalf("GetRefreshToken mismatch (-want +got):\n%s", diff)
	}
}

func testInsertRefreshTokenDuplicate(f *fixture) {
	u := f.user("ann")
	tk := f.token(u.UserID, "fam")
	f.insertToken(tk)
	dup := *tk
	dup.FamilyID = "other"
	f.wantCode(f.s.InsertRefreshToken(f.ctx, &dup), confab.CodeConflict)
	if got := f.getToken(tk.Hash); got.FamilyID != "fam" {
		f.t.Fatalf("FamilyID = %q after a conflicting insert, want fam", got.FamilyID)
	}
}

func testGetRefreshTokenNotFound(f *fixture) {
	_, err := f.s.GetRefreshToken(f.ctx, "missing")
	f.wantCode(err, confab.CodeNotFound)
}

func testRotateRefreshToken(f *fixture) {
	u := f.user("ann")
	old := f.token(u.UserID, "fam")
	f.insertToken(old)
	next := f.token(u.UserID, "fam")
	if err := f.s.RotateRefreshToken(f.ctx, old.Hash, next); err != nil {
		f.t.Fatal(err)
	}
	want := *old
	want.Used = true
	if diff := cmp.Diff(&want, f.getToken(old.Hash)); diff != "" {
		f.t.Fatalf("old token after rotation (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(next, f.getToken(next.Hash)); diff != "" {
		f.t.Fatalf("next token after rotation (-want +got):\n%s", diff)
	}
}

// testRotateRefreshTokenRace races two rotations of one token, several
// rounds, both released at once: exactly one may win.
func testRotateRefreshTokenRace(f *fixture) {
	u := f.user("ann")
	for range 10 {
		old := f.token(u.UserID, "fam")
		f.insertToken(old)
		nexts := []*confab.RefreshToken{f.token(u.UserID, "fam"), f.token(u.UserID, "fam")}
		start := make(chan struct{})
		errs := make(chan error, len(nexts))
		for _, next := range nexts {
			go func() {
				<-start
				errs <- f.s.RotateRefreshToken(f.ctx, old.Hash, next)
			}()
		}
		close(start)
		var codes []confab.Code
		for range nexts {
			codes = append(codes, confab.ErrorCode(<-errs))
		}
		wins, conflicts := 0, 0
		for _, c := range codes {
			switch c {
			case "":
				wins++
			case confab.CodeConflict:
				conflicts++
			}
		}
		if wins != 1 || conflicts != 1 {
			f.t.Fatalf("two racing rotations returned codes %q, want one success and one %s", codes, confab.CodeConflict)
		}
		stored := 0
		for _, next := range nexts {
			if _, err := f.s.GetRefreshToken(f.ctx, next.Hash); err == nil {
				stored++
			}
		}
		if stored != 1 {
			f.t.Fatalf("%d next tokens stored, want exactly the winner's", stored)
		}
	}
}

func testRotateRefreshTokenUsedOrRevoked(f *fixture) {
	u := f.user("ann")
	used, revoked := f.token(u.UserID, "a"), f.token(u.UserID, "b")
	f.insertToken(used)
	f.insertToken(revoked)
	if err := f.s.RotateRefreshToken(f.ctx, used.Hash, f.token(u.UserID, "a")); err != nil {
		f.t.Fatal(err)
	}
	if err := f.s.RevokeRefreshFamily(f.ctx, "b"); err != nil {
		f.t.Fatal(err)
	}
	for _, old := range []*confab.RefreshToken{used, revoked} {
		next := f.token(u.UserID, old.FamilyID)
		f.wantCode(f.s.RotateRefreshToken(f.ctx, old.Hash, next), confab.CodeConflict)
		_, err := f.s.GetRefreshToken(f.ctx, next.Hash)
		f.wantCode(err, confab.CodeNotFound) // nothing changed
	}
}

func testRevokeRefreshFamily(f *fixture) {
	u := f.user("ann")
	a, b, other := f.token(u.UserID, "fam"), f.token(u.UserID, "fam"), f.token(u.UserID, "other")
	for _, tk := range []*confab.RefreshToken{a, b, other} {
		f.insertToken(tk)
	}
	if err := f.s.RevokeRefreshFamily(f.ctx, "fam"); err != nil {
		f.t.Fatal(err)
	}
	for _, tk := range []*confab.RefreshToken{a, b} {
		if got := f.getToken(tk.Hash); !got.Revoked {
			f.t.Fatalf("token %s of the revoked family: Revoked = false", tk.Hash)
		}
	}
	if got := f.getToken(other.Hash); got.Revoked {
		f.t.Fatal("a token of another family was revoked")
	}
	if err := f.s.RevokeRefreshFamily(f.ctx, "no-such-family"); err != nil {
		f.t.Fatalf("revoking an empty family: %v", err)
	}
}
