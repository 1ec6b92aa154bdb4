package recipe

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/confab-chat/confab"
)

// CognitoUser is what the recipe's user pool knows of a user and its
// DynamoDB tables do not: the email address (the pool signs in by email),
// when the account was made, and whether it is enabled.
type CognitoUser struct {
	Sub       string
	Email     string // lowercase; "" when the pool has none
	CreatedAt time.Time
	Enabled   bool
}

// maxCognitoFileBytes bounds the user pool export read into memory: some
// 2 KB per user at most, so 1 GiB is half a million users and more.
const maxCognitoFileBytes = 1 << 30

// ReadCognitoUsers reads the output of
//
//	aws cognito-idp list-users --user-pool-id POOL --output json
//
// (the CLI follows the pages itself): {"Users": [{"Username", "Attributes":
// [{"Name", "Value"}], "UserCreateDate", "Enabled"}]}. The sub attribute is
// the user id (the Username when it has none); UserCreateDate may be ISO
// 8601 (CLI v2) or epoch seconds (CLI v1). Users that confab cannot hold
// come back as *Invalid in bad; a file that is not such JSON is an error.
func ReadCognitoUsers(r io.Reader, name string) (users []CognitoUser, bad []error, err error) {
	var out struct {
		Users []struct {
			Username   string
			Attributes []struct{ Name, Value string }
			Enabled    *bool
			// UserCreateDate is a string or a number.
			UserCreateDate json.RawMessage
		}
	}
	lr := &io.LimitedReader{R: r, N: maxCognitoFileBytes + 1}
	if err := json.NewDecoder(lr).Decode(&out); err != nil {
		return nil, nil, fmt.Errorf("recipe: %s is not the JSON of aws cognito-idp list-users: %w", name, err)
	}
	if lr.N <= 0 {
		return nil, nil, fmt.Errorf("recipe: %s is larger than %d bytes", name, maxCognitoFileBytes)
	}
	for i, u := range out.Users {
		cu := CognitoUser{Sub: u.Username, Enabled: u.Enabled == nil || *u.Enabled}
		for _, a := range u.Attributes {
			switch a.Name {
			case "sub":
				cu.Sub = a.Value
			case "email":
				cu.Email = strings.ToLower(strings.TrimSpace(a.Value))
			}
		}
		var reason string
		cu.CreatedAt, reason = cognitoTime(u.UserCreateDate)
		switch {
		case cu.Sub == "" || !confab.ValidText(cu.Sub, confab.MaxIDBytes):
			reason = fmt.Sprintf("user %d: sub %q is not a valid user id", i, cu.Sub)
		case reason == "" && cu.Email != "":
			if err := checkAccount(confab.User{Username: cu.Sub, Email: cu.Email}); err != nil {
				reason = err.Error()
			}
		}
		if reason != "" {
			bad = append(bad, &Invalid{Table: name, Key: cu.Sub, Reason: reason})
			continue
		}
		users = append(users, cu)
	}
	return users, bad, nil
}

// cognitoTime parses a UserCreateDate, or says why it cannot.
func cognitoTime(raw json.RawMessage) (time.Time, string) {
	var s string
	var secs float64
	switch {
	case len(raw) == 0:
		return time.Time{}, "UserCreateDate is missing"
	case json.Unmarshal(raw, &s) == nil:
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, fmt.Sprintf("UserCreateDate %q is not an ISO 8601 date-time", s)
		}
		return t.UTC().Truncate(time.Millisecond), ""
	case json.Unmarshal(raw, &secs) == nil:
		return time.UnixMilli(int64(secs * 1000)).UTC(), ""
	}
	return time.Time{}, fmt.Sprintf("UserCreateDate %s is neither a date-time nor a number", raw)
}

// Apply completes a with what the pool knows: its email (the address its
// owner signs in with, so it wins over one in the Users table), the pool's
// creation time, and Disabled for a disabled user.
func (u CognitoUser) Apply(a *confab.Account) {
	if u.Email != "" {
		a.User.Email = u.Email
	}
	a.User.CreatedAt = u.CreatedAt
	a.Disabled = !u.Enabled
}
