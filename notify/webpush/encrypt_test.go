package webpush

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"testing"
)

// TestSeal_RFC8291 seals RFC 8291 Appendix A's example with its keys and
// salt and must produce the RFC's body byte for byte: the check of the
// encryption that does not rest on a decrypter written alongside it.
func TestSeal_RFC8291(t *testing.T) {
	b64 := func(s string) []byte {
		t.Helper()
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	plain := []byte("When I grow up, I want to be a watermelon")
	asKey, err := ecdh.P256().NewPrivateKey(b64("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := asKey.PublicKey().Bytes(), b64("BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"); !bytes.Equal(got, want) {
		t.Fatalf("as_public = %x, want %x", got, want)
	}
	body, err := seal(plain,
		b64("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"), // ua_public
		b64("BTBZMqHH6r4Tts7J_aSIgg"), // auth_secret
		asKey, b64("DGv6ra1nlYgDCS1FRnbzlw"), len(plain)+1)
	if err != nil {
		t.Fatal(err)
	}
	const want = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
	if got := base64.RawURLEncoding.EncodeToString(body); got != want {
		t.Errorf("body =\n%s\nwant (RFC 8291 Appendix A)\n%s", got, want)
	}
}

// TestEncrypt_OneRecord: every push body is one record of recordSize
// bytes whatever its text, and a text too long for it is refused.
func TestEncrypt_OneRecord(t *testing.T) {
	ua, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p256dh := base64.RawURLEncoding.EncodeToString(ua.PublicKey().Bytes())
	auth := base64.RawURLEncoding.EncodeToString(make([]byte, 16))
	for _, n := range []int{0, 100, 3993} {
		body, err := encrypt(bytes.Repeat([]byte("x"), n), p256dh, auth)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if len(body) != recordSize {
			t.Errorf("%d bytes of text: body of %d bytes, want %d", n, len(body), recordSize)
		}
	}
	if _, err := encrypt(bytes.Repeat([]byte("x"), 3994), p256dh, auth); err == nil {
		t.Error("3,994 bytes of text: no error, want one (the record holds 3,993 and the delimiter)")
	}
}
