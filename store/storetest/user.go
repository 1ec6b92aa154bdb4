package storetest

import (
	"strings"
	"time"

	"github.com/confab-chat/confab"
	"github.com/google/go-cmp/cmp"
)

var userTests = []test{
	{"InsertAccount/RoundTrip", testInsertAccountRoundTrip},
	{"InsertAccount/EmailConflictCaseInsensitive", testInsertAccountEmailConflict},
	{"InsertAccount/UsernameConflict", testInsertAccountUsernameConflict},
	{"InsertAccount/UsernameConflictCaseInsensitive", testInsertAccountUsernameConflictCase},
	{"GetAccountByLogin/EmailAnyCase", testGetAccountByLoginEmail},
	{"GetAccountByLogin/Username", testGetAccountByLoginUsername},
	{"GetAccountByLogin/UsernameAnyCase", testGetAccountByLoginUsernameCase},
	{"GetAccountByLogin/NotFound", testGetAccountByLoginNotFound},
	{"GetUser/NotFound", testGetUserNotFound},
	{"GetUsers/SkipsMissing", testGetUsersSkipsMissing},
	{"UpdateUser/Partial", testUpdateUserPartial},
	{"UpdateUser/NotFound", testUpdateUserNotFound},
	{"UpdateUser/HidePresence", testUpdateUserHidePresence},
	{"UpdateUser/HideReadReceipts", testUpdateUserHideReadReceipts},
}

func testInsertAccountRoundTrip(f *fixture) {
	// Times come back at millisecond precision, in UTC, whatever went in.
	local := time.FixedZone("UTC+5", 5*3600)
	created := time.Date(2026, 1, 2, 3, 4, 5, 678_901_234, local)
	seen := created.Add(time.Minute)
	u := confab.User{UserID: f.id("u"), Username: "ann", Email: "Ann@Example.com", DisplayName: ptr("Ann"),
		AvatarURL: ptr("https://example.com/a.png"), LastSeen: &seen, IsOnline: true, CreatedAt: created, UpdatedAt: &seen}
	if err := f.s.InsertAccount(f.ctx, &confab.Account{User: u, PasswordHash: "argon2id$x", Disabled: true}); err != nil {
		f.t.Fatal(err)
	}
	want := u
	want.CreatedAt = created.Truncate(time.Millisecond).UTC()
	want.LastSeen = ptr(seen.Truncate(time.Millisecond).UTC())
	want.UpdatedAt = want.LastSeen

	got, err := f.s.GetUser(f.ctx, u.UserID)
	if err != nil {
		f.t.Fatal(err)
	}
	if diff := cmp.Diff(&want, got); diff != "" {
		f.t.Fatalf("GetUser mismatch (-want +got):\n%s", diff)
	}
	if got.CreatedAt.Location() != time.UTC || got.LastSeen.Location() != time.UTC {
		f.t.Fatalf("times in %v and %v, want UTC", got.CreatedAt.Location(), got.LastSeen.Location())
	}
	a, err := f.s.GetAccountByLogin(f.ctx, "ann")
	if err != nil {
		f.t.Fatal(err)
	}
	if diff := cmp.Diff(&confab.Account{User: want, PasswordHash: "argon2id$x", Disabled: true}, a); diff != "" {
		f.t.Fatalf("GetAccountByLogin mismatch (-want +got):\n%s", diff)
	}
}

func testInsertAccountEmailConflict(f *fixture) {
	u := f.user("ann")
	dup := f.newUser("other")
	dup.Email = strings.ToUpper(u.Email)
	f.wantCode(f.s.InsertAccount(f.ctx, &confab.Account{User: dup, PasswordHash: "h"}), confab.CodeConflict)
	_, err := f.s.GetUser(f.ctx, dup.UserID)
	f.wantCode(err, confab.CodeNotFound) // nothing written
}

func testInsertAccountUsernameConflict(f *fixture) {
	u := f.user("ann")
	dup := f.newUser("other")
	dup.Username = u.Username
	f.wantCode(f.s.InsertAccount(f.ctx, &confab.Account{User: dup, PasswordHash: "h"}), confab.CodeConflict)
	_, err := f.s.GetUser(f.ctx, dup.UserID)
	f.wantCode(err, confab.CodeNotFound)
}

// "Ann" and "ann" would be two people who look like one (issue 18).
func testInsertAccountUsernameConflictCase(f *fixture) {
	u := f.user("ann")
	dup := f.newUser("other")
	dup.Username = strings.ToUpper(u.Username)
	f.wantCode(f.s.InsertAccount(f.ctx, &confab.Account{User: dup, PasswordHash: "h"}), confab.CodeConflict)
	_, err := f.s.GetUser(f.ctx, dup.UserID)
	f.wantCode(err, confab.CodeNotFound)
}

func testGetAccountByLoginUsernameCase(f *fixture) {
	u := f.user("ann")
	for _, login := range []string{strings.ToUpper(u.Username), "A" + u.Username[1:]} {
		a, err := f.s.GetAccountByLogin(f.ctx, login)
		if err != nil || a.User.UserID != u.UserID {
			f.t.Fatalf("GetAccountByLogin(%q) = %+v, %v; want %s", login, a, err, u.UserID)
		}
	}
}

func testGetAccountByLoginEmail(f *fixture) {
	u := f.user("ann")
	for _, login := range []string{u.Email, strings.ToLower(u.Email), strings.ToUpper(u.Email)} {
		a, err := f.s.GetAccountByLogin(f.ctx, login)
		if err != nil || a.User.UserID != u.UserID || a.PasswordHash != "hash-of-ann" {
			f.t.Fatalf("GetAccountByLogin(%q) = %+v, %v; want %s", login, a, err, u.UserID)
		}
	}
}

func testGetAccountByLoginUsername(f *fixture) {
	u := f.user("ann")
	f.user("bo")
	a, err := f.s.GetAccountByLogin(f.ctx, u.Username)
	if err != nil || a.User.UserID != u.UserID {
		f.t.Fatalf("GetAccountByLogin(%q) = %+v, %v; want %s", u.Username, a, err, u.UserID)
	}
}

func testGetAccountByLoginNotFound(f *fixture) {
	f.user("ann")
	for _, login := range []string{"nobody@example.com", "nobody", ""} {
		_, err := f.s.GetAccountByLogin(f.ctx, login)
		f.wantCode(err, confab.CodeNotFound)
	}
}

func testGetUserNotFound(f *fixture) {
	_, err := f.s.GetUser(f.ctx, "missing")
	f.wantCode(err, confab.CodeNotFound)
}

func testGetUsersSkipsMissing(f *fixture) {
	a, b := f.user("a"), f.user("b")
	f.user("c")
	users, err := f.s.GetUsers(f.ctx, []string{b.UserID, "missing", a.UserID})
	if err != nil {
		f.t.Fatal(err)
	}
	got := map[string]string{}
	for _, u := range users {
		got[u.UserID] = u.Username
	}
	want := map[string]string{a.UserID: a.Username, b.UserID: b.Username}
	if diff := cmp.Diff(want, got); diff != "" {
		f.t.Fatalf("GetUsers mismatch (-want +got):\n%s", diff)
	}
	users, err = f.s.GetUsers(f.ctx, nil)
	if err != nil || len(users) != 0 {
		f.t.Fatalf("GetUsers(nil) = %v, %v; want none", users, err)
	}
}

func testUpdateUserPartial(f *fixture) {
	u := f.user("ann")
	at1 := f.now()
	got, err := f.s.UpdateUser(f.ctx, u.UserID, confab.UserUpdate{DisplayName: ptr("Ann"), AvatarURL: ptr("https://a"), UpdatedAt: at1})
	if err != nil {
		f.t.Fatal(err)
	}
	want := *u
	want.DisplayName, want.AvatarURL, want.UpdatedAt = ptr("Ann"), ptr("https://a"), &at1
	if diff := cmp.Diff(&want, got); diff != "" {
		f.t.Fatalf("after the first update (-want +got):\n%s", diff)
	}
	at2, seen := f.now(), f.now()
	got, err = f.s.UpdateUser(f.ctx, u.UserID, confab.UserUpdate{IsOnline: ptr(true), LastSeen: &seen, UpdatedAt: at2})
	if err != nil {
		f.t.Fatal(err)
	}
	want.IsOnline, want.LastSeen, want.UpdatedAt = true, &seen, &at2
	if diff := cmp.Diff(&want, got); diff != "" {
		f.t.Fatalf("after the second update: nil fields must stay (-want +got):\n%s", diff)
	}
	got, err = f.s.UpdateUser(f.ctx, u.UserID, confab.UserUpdate{IsOnline: ptr(false), UpdatedAt: at2})
	if err != nil || got.IsOnline || got.DisplayName == nil {
		f.t.Fatalf("going offline = %+v, %v", got, err)
	}
	stored, err := f.s.GetUser(f.ctx, u.UserID)
	if err != nil {
		f.t.Fatal(err)
	}
	if diff := cmp.Diff(got, stored); diff != "" {
		f.t.Fatalf("UpdateUser's result is not what GetUser reads (-update +get):\n%s", diff)
	}
}

func testUpdateUserNotFound(f *fixture) {
	_, err := f.s.UpdateUser(f.ctx, "missing", confab.UserUpdate{DisplayName: ptr("x"), UpdatedAt: f.now()})
	f.wantCode(err, confab.CodeNotFound)
}

// HidePresence is kept, read back by every read of a user, and left alone
// by updates that do not name it.
func testUpdateUserHidePresence(f *fixture) {
	u := f.user("ann")
	got, err := f.s.UpdateUser(f.ctx, u.UserID, confab.UserUpdate{HidePresence: ptr(true), UpdatedAt: f.now()})
	if err != nil || !got.HidePresence {
		f.t.Fatalf("UpdateUser(HidePresence true) = %+v, %v", got, err)
	}
	got, err = f.s.UpdateUser(f.ctx, u.UserID, confab.UserUpdate{IsOnline: ptr(true), UpdatedAt: f.now()})
	if err != nil || !got.HidePresence {
		f.t.Fatalf("an update without HidePresence = %+v, %v; want it kept", got, err)
	}
	reads := map[string]func() (*confab.User, error){
		"GetUser": func() (*confab.User, error) { return f.s.GetUser(f.ctx, u.UserID) },
		"GetUsers": func() (*confab.User, error) {
			us, err := f.s.GetUsers(f.ctx, []string{u.UserID})
			if err != nil || len(us) != 1 {
				return nil, err
			}
			return us[0], nil
		},
		"GetAccountByLogin": func() (*confab.User, error) {
			a, err := f.s.GetAccountByLogin(f.ctx, u.Email)
			if err != nil {
				return nil, err
			}
			return &a.User, nil
		},
	}
	for name, read := range reads {
		if got, err := read(); err != nil || got == nil || !got.HidePresence {
			f.t.Fatalf("%s = %+v, %v; want HidePresence", name, got, err)
		}
	}
	got, err = f.s.UpdateUser(f.ctx, u.UserID, confab.UserUpdate{HidePresence: ptr(false), UpdatedAt: f.now()})
	if err != nil || got.HidePresence {
		f.t.Fatalf("UpdateUser(HidePresence false) = %+v, %v", got, err)
	}
}

// HideReadReceipts is kept, read back, and left alone by updates that do
// not name it.
func testUpdateUserHideReadReceipts(f *fixture) {
	u := f.user("ann")
	got, err := f.s.UpdateUser(f.ctx, u.UserID, confab.UserUpdate{HideReadReceipts: ptr(true), UpdatedAt: f.now()})
	if err != nil || !got.HideReadReceipts || got.HidePresence {
		f.t.Fatalf("UpdateUser(HideReadReceipts true) = %+v, %v", got, err)
	}
	got, err = f.s.UpdateUser(f.ctx, u.UserID, confab.UserUpdate{HidePresence: ptr(true), UpdatedAt: f.now()})
	if err != nil || !got.HideReadReceipts {
		f.t.Fatalf("an update without HideReadReceipts = %+v, %v; want it kept", got, err)
	}
	if got, err := f.s.GetUser(f.ctx, u.UserID); err != nil || !got.HideReadReceipts {
		f.t.Fatalf("GetUser = %+v, %v; want HideReadReceipts", got, err)
	}
	if us, err := f.s.GetUsers(f.ctx, []string{u.UserID}); err != nil || len(us) != 1 || !us[0].HideReadReceipts {
		f.t.Fatalf("GetUsers = %v, %v; want HideReadReceipts", us, err)
	}
	got, err = f.s.UpdateUser(f.ctx, u.UserID, confab.UserUpdate{HideReadReceipts: ptr(false), UpdatedAt: f.now()})
	if err != nil || got.HideReadReceipts {
		f.t.Fatalf("UpdateUser(HideReadReceipts false) = %+v, %v", got, err)
	}
}
