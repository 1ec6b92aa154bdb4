package recipe

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestReadCognitoUsers(t *testing.T) {
	in := `{"Users": [
		{"Username": "sub-a", "Attributes": [{"Name": "sub", "Value": "sub-a"}, {"Name": "email", "Value": "Alice@Example.com"}],
		 "UserCreateDate": "2024-05-01T10:00:00.123000+02:00", "Enabled": true, "UserStatus": "CONFIRMED"},
		{"Username": "sub-b", "Attributes": [], "UserCreateDate": 1714557600.5, "Enabled": false},
		{"Username": "sub-c", "Attributes": [{"Name": "email", "Value": "not an address"}], "UserCreateDate": 1714557600},
		{"Username": "sub-d", "Attributes": [{"Name": "email", "Value": "d@example.com"}], "UserCreateDate": "last week"},
		{"Username": "", "Attributes": [], "UserCreateDate": 1714557600}
	]}`
	users, bad, err := ReadCognitoUsers(strings.NewReader(in), "pool.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 2 || len(bad) != 3 {
		t.Fatalf("ReadCognitoUsers = %d users, %d bad (%v); want 2 and 3", len(users), len(bad), bad)
	}
	a, b := users[0], users[1]
	if a.Sub != "sub-a" || a.Email != "alice@example.com" || !a.Enabled || !a.CreatedAt.Equal(time.Date(2024, 5, 1, 8, 0, 0, 123e6, time.UTC)) {
		t.Fatalf("user a = %+v, want sub-a, alice@example.com lowercased, enabled, created 08:00:00.123 UTC (CLI v2 date)", a)
	}
	if b.Sub != "sub-b" || b.Email != "" || b.Enabled || !b.CreatedAt.Equal(time.UnixMilli(1714557600500)) {
		t.Fatalf("user b = %+v, want the Username as sub, no email, disabled, created at the epoch seconds (CLI v1 date)", b)
	}
	for i, want := range []string{`email "not an address"`, `UserCreateDate "last week"`, `sub "" is not`} {
		var inv *Invalid
		if !errors.As(bad[i], &inv) || !strings.Contains(inv.Reason, want) || inv.Table != "pool.json" {
			t.Errorf("bad[%d] = %v, want an *Invalid of pool.json saying %q", i, bad[i], want)
		}
	}

	acct := StubAccount("sub-a", time.Now())
	a.Apply(acct)
	if acct.User.Email != "alice@example.com" || !acct.User.CreatedAt.Equal(a.CreatedAt) || acct.Disabled {
		t.Fatalf("Apply = %+v, want the pool's email and creation time", acct.User)
	}
	b.Apply(acct)
	if acct.User.Email != "alice@example.com" || !acct.Disabled {
		t.Fatalf("Apply of a user without email = %+v, want the email kept and the account disabled", acct)
	}
}

func TestReadCognitoUsers_ErrNotJSON(t *testing.T) {
	for _, in := range []string{"", "[1,2]", `{"Users": [{"Username": 7}]}`} {
		if _, _, err := ReadCognitoUsers(strings.NewReader(in), "pool.json"); err == nil || !strings.Contains(err.Error(), "pool.json") {
			t.Errorf("ReadCognitoUsers(%q) error = %v, want one naming the file", in, err)
		}
	}
}
