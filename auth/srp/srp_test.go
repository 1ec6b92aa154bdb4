package srp

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"os"
	"testing"
)

// vector is a fixed SRP exchange computed by amazon-cognito-identity-js
// 6.3.21 (its AuthenticationHelper and CognitoUser signature code, the
// math Amplify v6 shares; protocols.md §4.6), with pinned secrets a and b.
// The salt's first byte is 00, which the client drops when it hashes the
// salt as an integer.
type vector struct {
	Pool, User, Password, Salt, A, V, B, SecretBlock, Timestamp, Signature string
	SmallA                                                                 string `json:"a"`
	SmallB                                                                 string `json:"b"`
}

func loadVector(t *testing.T) vector {
	t.Helper()
	raw, err := os.ReadFile("testdata/amazon-cognito-identity-js-6.3.21.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vector
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func hexInt(t *testing.T, s string) *big.Int {
	t.Helper()
	v, err := ParseHex(s)
	if err != nil {
		t.Fatalf("ParseHex(%.16s…): %v", s, err)
	}
	return v
}

func TestSRP_FixedVector(t *testing.T) {
	vec := loadVector(t)
	salt := hexInt(t, vec.Salt)
	v := new(big.Int).Exp(g, X(vec.Pool, vec.User, vec.Password, salt), n)
	if got := v.Text(16); got != vec.V {
		t.Fatalf("verifier = %.32s…, want %.32s…", got, vec.V)
	}
	_, B, err := challengeWith(hexInt(t, vec.SmallB), v)
	if err != nil {
		t.Fatal(err)
	}
	if got := B.Text(16); got != vec.B {
		t.Fatalf("B = %.32s…, want %.32s…", got, vec.B)
	}
	key, err := Key(hexInt(t, vec.A), B, hexInt(t, vec.SmallB), v)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := base64.StdEncoding.DecodeString(vec.SecretBlock)
	got := base64.StdEncoding.EncodeToString(Signature(key, vec.Pool, vec.User, block, vec.Timestamp))
	if got != vec.Signature {
		t.Fatalf("signature = %s, want %s (the client's)", got, vec.Signature)
	}
	ck := ClientKey(vec.Pool, vec.User, vec.Password, salt, hexInt(t, vec.SmallA), hexInt(t, vec.A), B)
	if got := base64.StdEncoding.EncodeToString(Signature(ck, vec.Pool, vec.User, block, vec.Timestamp)); got != vec.Signature {
		t.Fatalf("ClientKey's signature = %s, want %s", got, vec.Signature)
	}
}

func TestSRP_ClientRoundTrip(t *testing.T) {
	const pool, user = "confab", "4b7c0d6e-1111-4222-8333-944455556666"
	saltHex, vHex := Verifier(pool, user, "Right-Passw0rd")
	salt, v := hexInt(t, saltHex), hexInt(t, vHex)
	for _, tt := range []struct {
		name     string
		password string
		match    bool
	}{
		{"OK", "Right-Passw0rd", true},
		{"ErrWrongPassword", "Wrong-Passw0rd", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, A := ClientA()
			b, B, err := Challenge(A, v)
			if err != nil {
				t.Fatal(err)
			}
			server, err := Key(A, B, b, v)
			if err != nil {
				t.Fatal(err)
			}
			ck := ClientKey(pool, user, tt.password, salt, a, A, B)
			if got := hmac.Equal(server, ck); got != tt.match {
				t.Fatalf("keys equal = %v, want %v", got, tt.match)
			}
		})
	}
}

func TestSRP_BadInput(t *testing.T) {
	v := big.NewInt(12345)
	for _, a := range []*big.Int{big.NewInt(0), new(big.Int).Set(n), new(big.Int).Mul(n, big.NewInt(3))} {
		if _, _, err := Challenge(a, v); err != ErrBadInput {
			t.Errorf("Challenge(A = %v mod N) = %v, want ErrBadInput", new(big.Int).Mod(a, n), err)
		}
	}
	for _, s := range []string{"", "xyz", "-1f", string(make([]byte, 3000))} {
		if _, err := ParseHex(s); err != ErrBadInput {
			t.Errorf("ParseHex(%.8q) = %v, want ErrBadInput", s, err)
		}
	}
}

func TestPadHex(t *testing.T) {
	for _, tt := range []struct {
		in   int64
		want string
	}{{0, "00"}, {1, "01"}, {0x7f, "7f"}, {0x80, "0080"}, {0xfff, "0fff"}, {0x8000, "008000"}} {
		if got := PadHex(big.NewInt(tt.in)); got != tt.want {
			t.Errorf("PadHex(%#x) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
