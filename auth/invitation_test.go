package auth

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/confab-chat/confab"
)

func TestVerifyInvitation(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)
	week := 168 * time.Hour
	open := NewInvitation(key, "acme", "", week, now)
	bound := NewInvitation(key, "acme", "Ann@Acme.example", week, now)
	// forge re-encodes a token's payload with one field changed and the
	// original MAC, the way an attacker would widen an invitation.
	forge := func(token, from, to string) string {
		p64, mac, _ := strings.Cut(token, ".")
		payload, err := base64.RawURLEncoding.DecodeString(p64)
		if err != nil {
			t.Fatal(err)
		}
		changed := strings.Replace(string(payload), from, to, 1)
		if changed == string(payload) {
			t.Fatalf("forge: %q not in %s", from, payload)
		}
		return base64.RawURLEncoding.EncodeToString([]byte(changed)) + "." + mac
	}
	tests := []struct {
		name      string
		token     string
		workspace string
		email     string
		at        time.Time
		want      error
	}{
		{"OK", open, "acme", "bo@anywhere.example", now, nil},
		{"OKJustBeforeExpiry", open, "acme", "bo@anywhere.example", now.Add(week - time.Nanosecond), nil},
		{"OKBoundEmailAnyCase", bound, "acme", "ann@acme.example", now.Add(time.Hour), nil},
		{"OKDefaultWorkspace", NewInvitation(key, "", "", time.Hour, now), "", "bo@x.example", now, nil},
		{"ErrExpired", open, "acme", "bo@anywhere.example", now.Add(week), errExpiredInvitation},
		{"ErrForgedMAC", open[:len(open)-2] + "AA", "acme", "bo@x.example", now, errBadInvitation},
		{"ErrForgedWorkspace", forge(open, `"w":"acme"`, `"w":"globex"`), "globex", "bo@x.example", now, errBadInvitation},
		{"ErrForgedExpiry", forge(open, `"exp":1`, `"exp":9`), "acme", "bo@x.example", now, errBadInvitation},
		{"ErrForgedEmail", forge(bound, `ann@`, `eve@`), "acme", "eve@acme.example", now, errBadInvitation},
		{"ErrOtherKey", NewInvitation([]byte("another key of thirty-two bytes!"), "acme", "", week, now), "acme", "bo@x.example", now, errBadInvitation},
		{"ErrOtherWorkspace", open, "globex", "bo@x.example", now, errOtherWorkspace},
		{"ErrDefaultWorkspaceTokenElsewhere", NewInvitation(key, "", "", week, now), "acme", "bo@x.example", now, errOtherWorkspace},
		{"ErrWrongEmailWhenBound", bound, "acme", "eve@acme.example", now, errOtherEmail},
		{"ErrMissing", "", "acme", "bo@x.example", now, errNoInvitation},
		{"ErrNotAToken", "hello", "acme", "bo@x.example", now, errBadInvitation},
		{"ErrNotBase64", "!!!.???", "acme", "bo@x.example", now, errBadInvitation},
		{"ErrTooLong", strings.Repeat("A", maxInvitationBytes+1), "acme", "bo@x.example", now, errBadInvitation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyInvitation(key, tt.token, tt.workspace, tt.email, tt.at)
			if err != tt.want {
				t.Fatalf("VerifyInvitation = %v, want %v", err, tt.want)
			}
			if err != nil && confab.ErrorCode(err) != confab.CodeForbidden {
				t.Errorf("code = %q, want %q", confab.ErrorCode(err), confab.CodeForbidden)
			}
		})
	}
	if err := VerifyInvitation(nil, open, "acme", "bo@x.example", now); err != errBadInvitation {
		t.Errorf("VerifyInvitation with no key = %v, want %v", err, errBadInvitation)
	}
}

func TestNewInvitation_URLSafe(t *testing.T) {
	tok := NewInvitation([]byte("k"), "acme", "a+b@example.com", time.Hour, time.Unix(1e9, 0))
	if strings.ContainsAny(tok, "+/=?&# ") {
		t.Errorf("token %q needs escaping in a URL", tok)
	}
}
