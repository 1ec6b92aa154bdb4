package appsync

import (
	"encoding/base64"
	"net/http/httptest"
	"testing"
)

// FuzzDecodeHeader: any header parameter either decodes to an object or
// is an error; never a panic.
func FuzzDecodeHeader(f *testing.F) {
	f.Add(base64.StdEncoding.EncodeToString([]byte(`{"Authorization":"jwt","host":"h"}`)))
	f.Add(base64.RawURLEncoding.EncodeToString([]byte(`{"Authorization":"jwt"}`)))
	f.Add("e30=")
	f.Add("%%%")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := decodeHeader(s)
		if err == nil && h == nil {
			t.Fatal("no error and no header")
		}
	})
}

// FuzzDecodeStart: any start payload is decoded or refused; an accepted
// one has a query.
func FuzzDecodeStart(f *testing.F) {
	f.Add([]byte(`{"data":"{\"query\":\"subscription { x }\",\"variables\":{}}","extensions":{"authorization":{"Authorization":"t"}}}`))
	f.Add([]byte(`{"data":{"query":"subscription { x }"}}`))
	f.Add([]byte(`{"data":"not json"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, _, err := decodeStart(raw)
		if err == nil && p.Query == "" {
			t.Fatal("accepted a start without a query")
		}
	})
}

func TestHandshakeHeader(t *testing.T) {
	raw := base64.StdEncoding.EncodeToString([]byte(`{"Authorization":"a+b/c=","host":"h"}`)) // '+' and '/' must survive
	tests := []struct {
		name, target, subprotocol, want string
	}{
		{"QueryStdBase64", "/graphql/realtime?header=" + raw + "&payload=e30=", "", "a+b/c="},
		{"QueryEscaped", "/graphql/realtime?header=" + escape(raw), "", "a+b/c="},
		{"Subprotocol", "/graphql/realtime", "graphql-ws, header-" + base64.RawURLEncoding.EncodeToString([]byte(`{"Authorization":"s"}`)), "s"},
		{"Missing", "/graphql/realtime", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tt.target, nil)
			if tt.subprotocol != "" {
				r.Header.Set("Sec-WebSocket-Protocol", tt.subprotocol)
			}
			h, err := HandshakeHeader(r)
			if err != nil {
				t.Fatal(err)
			}
			if got := tokenOf(h); got != tt.want {
				t.Fatalf("token = %q, want %q", got, tt.want)
			}
		})
	}
}

func escape(s string) string {
	out := ""
	for _, c := range s {
		switch c {
		case '+':
			out += "%2B"
		case '/':
			out += "%2F"
		case '=':
			out += "%3D"
		default:
			out += string(c)
		}
	}
	return out
}
