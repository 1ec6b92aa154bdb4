package auth

import (
	"testing"
	"time"

	"github.com/confab-chat/confab"
)

var testInvitationKey = []byte("0123456789abcdef0123456789abcdef")

func TestService_SignUpPolicy(t *testing.T) {
	acme := confab.Workspace{ID: "acme", Signup: confab.SignupInvitation}
	globex := confab.Workspace{ID: "globex", Signup: confab.SignupDomain, Domains: []string{"Globex.example", "@mail.globex.example"}}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) // newService's clock
	invite := func(ws, email string, ttl time.Duration) string {
		return NewInvitation(testInvitationKey, ws, email, ttl, now)
	}
	// Every case uses its own address, so the cases of a workspace share
	// one service (opening a store per case is slow under -race).
	tests := []struct {
		name       string
		ws         confab.Workspace
		email      string
		invitation string
		want       error
	}{
		{"OKOpen", confab.Workspace{}, "a@x.example", "", nil},
		{"OKOpenIgnoresInvitation", confab.Workspace{}, "b@x.example", "junk", nil},
		{"OKInvitation", acme, "a@x.example", invite("acme", "", time.Hour), nil},
		{"OKInvitationBound", acme, "B@X.example", invite("acme", "b@x.example", time.Hour), nil},
		{"ErrInvitationMissing", acme, "c@x.example", "", errNoInvitation},
		{"ErrInvitationExpired", acme, "d@x.example", invite("acme", "", -time.Second), errExpiredInvitation},
		{"ErrInvitationOtherWorkspace", acme, "e@x.example", invite("globex", "", time.Hour), errOtherWorkspace},
		{"ErrInvitationOtherEmail", acme, "f@x.example", invite("acme", "a@x.example", time.Hour), errOtherEmail},
		{"ErrInvitationForged", acme, "g@x.example", NewInvitation([]byte("not the key"), "acme", "", time.Hour, now), errBadInvitation},
		{"OKDomain", globex, "a@globex.example", "", nil},
		{"OKDomainAnyCase", globex, "B@GLOBEX.Example", "", nil},
		{"OKSecondDomain", globex, "a@mail.globex.example", "", nil},
		{"ErrSubdomain", globex, "a@evil.globex.example", "", errOtherDomain},
		{"ErrSuffix", globex, "a@evilglobex.example", "", errOtherDomain},
		{"ErrDomainAsPrefix", globex, "a@globex.example.evil", "", errOtherDomain},
		{"ErrDomainNotInvitation", globex, "a@x.example", invite("globex", "", time.Hour), errOtherDomain},
	}
	// Both ways a person signs up: /auth/signup (SignUp) and Cognito's
	// SignUp (Register).
	entries := []struct {
		name string
		f    func(s *Service, in SignUpInput) error
	}{
		{"SignUp", func(s *Service, in SignUpInput) error { _, err := s.SignUp(ctx, in, "10.0.0.1"); return err }},
		{"Register", func(s *Service, in SignUpInput) error { _, _, err := s.Register(ctx, in, "10.0.0.1"); return err }},
	}
	for _, e := range entries {
		services := map[string]*Service{}
		for _, tt := range tests {
			if services[tt.ws.ID] == nil {
				services[tt.ws.ID], _ = newService(t, Config{Workspace: tt.ws, InvitationKey: testInvitationKey})
			}
			t.Run(e.name+"/"+tt.name, func(t *testing.T) {
				s := services[tt.ws.ID]
				in := SignUpInput{Email: tt.email, Password: testPassword, Invitation: tt.invitation}
				if err := e.f(s, in); err != tt.want {
					t.Fatalf("%s = %v, want %v", e.name, err, tt.want)
				}
				if tt.want == nil {
					return
				}
				// Nothing stored: the address is still free for an
				// account an administrator makes.
				if _, err := s.CreateAccount(ctx, in); err != nil {
					t.Errorf("CreateAccount after a refused sign-up = %v, want nil", err)
				}
			})
		}
	}
}

func TestNew_SignupPolicy(t *testing.T) {
	tests := []struct {
		name string
		ws   confab.Workspace
		key  []byte
		ok   bool
	}{
		{"OKZero", confab.Workspace{}, nil, true},
		{"OKInvitation", confab.Workspace{ID: "a", Signup: confab.SignupInvitation}, testInvitationKey, true},
		{"OKDomain", confab.Workspace{ID: "a", Signup: confab.SignupDomain, Domains: []string{"a.example"}}, nil, true},
		{"ErrUnknownPolicy", confab.Workspace{ID: "a", Signup: "closed"}, nil, false},
		{"ErrInvitationWithoutKey", confab.Workspace{ID: "a", Signup: confab.SignupInvitation}, nil, false},
		{"ErrDomainWithoutDomains", confab.Workspace{ID: "a", Signup: confab.SignupDomain}, nil, false},
		{"ErrBadDomain", confab.Workspace{ID: "a", Signup: confab.SignupDomain, Domains: []string{"a@b.example"}}, nil, false},
		{"ErrTrailingDot", confab.Workspace{ID: "a", Signup: confab.SignupDomain, Domains: []string{"b.example."}}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(openStore(t), Config{KeyFile: writeTestKey(t), Workspace: tt.ws, InvitationKey: tt.key})
			if (err == nil) != tt.ok {
				t.Fatalf("New = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestService_CreateUserIgnoresPolicy(t *testing.T) {
	s, _ := newService(t, Config{Workspace: confab.Workspace{ID: "acme", Signup: confab.SignupInvitation}, InvitationKey: testInvitationKey})
	if _, err := s.CreateUser(ctx, CreateUserInput{Email: "a@x.example", Suppress: true}); err != nil {
		t.Fatalf("CreateUser = %v, want nil", err)
	}
}
