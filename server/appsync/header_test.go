package appsync

import (
	"encoding/base64"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestHandshakeHeader(t *testing.T) {
	// A token whose base64 has '+', '/' and '=' in both alphabets' spots,
	// so each flavour is really exercised.
	obj := []byte(`{"Authorization":"a+b/c=>?~","host":"localhost:8443"}`)
	std := base64.StdEncoding.EncodeToString(obj)
	if !strings.ContainsAny(std, "+/") || !strings.HasSuffix(std, "=") {
		t.Fatalf("test header %q does not exercise the standard alphabet and padding", std)
	}
	url := base64.URLEncoding.EncodeToString(obj)
	rawURL := base64.RawURLEncoding.EncodeToString(obj)
	rawStd := base64.RawStdEncoding.EncodeToString(obj)
	escaped := strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D").Replace(std)
	const want = "a+b/c=>?~"

	tests := []struct {
		name        string
		target      string
		subprotocol string
		want        string // token; "" with wantErr false means no header
		wantErr     bool
	}{
		{"OK/QueryStdPaddedRaw", "/graphql/realtime?header=" + std + "&payload=e30=", "graphql-ws", want, false},
		{"OK/QueryStdPaddedEscaped", "/graphql/realtime?header=" + escaped + "&payload=e30%3D", "graphql-ws", want, false},
		{"OK/QueryStdUnpadded", "/graphql/realtime?payload=e30=&header=" + rawStd, "graphql-ws", want, false},
		{"OK/QueryURLPadded", "/graphql/realtime?header=" + url, "graphql-ws", want, false},
		{"OK/QueryURLUnpadded", "/graphql/realtime?header=" + rawURL, "graphql-ws", want, false},
		{"OK/QueryUnknownParamsIgnored", "/graphql/realtime?x-custom=1&header=" + std + "&payload=e30=&foo", "graphql-ws", want, false},
		{"OK/Subprotocol", "/graphql/realtime", "graphql-ws, header-" + rawURL, want, false},
		{"OK/SubprotocolPadded", "/graphql/realtime", "graphql-ws,header-" + url, want, false},
		{"OK/SubprotocolWinsOverQuery", "/graphql/realtime?header=" + base64.StdEncoding.EncodeToString([]byte(`{"Authorization":"old"}`)), "graphql-ws, header-" + rawURL, want, false},
		{"OK/Missing", "/graphql/realtime?payload=e30=", "graphql-ws", "", false},
		{"ErrNotBase64", "/graphql/realtime?header=%21%21%21", "graphql-ws", "", true},
		{"ErrBadEscape", "/graphql/realtime?header=%zz", "graphql-ws", "", true},
		{"ErrNotJSON", "/graphql/realtime?header=" + base64.StdEncoding.EncodeToString([]byte("hello")), "graphql-ws", "", true},
		{"ErrJSONNotObject", "/graphql/realtime?header=" + base64.StdEncoding.EncodeToString([]byte(`["a"]`)), "graphql-ws", "", true},
		{"ErrSubprotocolNotBase64", "/graphql/realtime", "graphql-ws, header-***", "", true},
		{"ErrTooLarge", "/graphql/realtime?header=" + strings.Repeat("A", 64<<10), "graphql-ws", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tt.target, nil)
			r.Header.Set("Sec-WebSocket-Protocol", tt.subprotocol)
			h, err := handshakeHeader(r)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if got := tokenOf(h); got != tt.want {
				t.Fatalf("token = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTokenOf(t *testing.T) {
	tests := []struct {
		name   string
		header map[string]any
		want   string
	}{
		{"OK/Raw", map[string]any{"Authorization": "jwt", "host": "h"}, "jwt"},
		{"OK/AnyCase", map[string]any{"authorization": "jwt"}, "jwt"},
		{"OK/Bearer", map[string]any{"Authorization": "Bearer jwt"}, "jwt"},
		{"OK/BearerLowerCase", map[string]any{"Authorization": "bearer  jwt"}, "jwt"},
		{"ErrNotString", map[string]any{"Authorization": 42}, ""},
		{"ErrAPIKeyOnly", map[string]any{"x-api-key": "da2-x", "host": "h"}, ""},
		{"ErrNil", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tokenOf(tt.header); got != tt.want {
				t.Fatalf("tokenOf = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDecodeStart(t *testing.T) {
	const q = `subscription S($c: ID!) { onMessageSent(conversationId: $c) { seq } }`
	tests := []struct {
		name     string
		payload  string
		wantVars map[string]any
		wantOp   string
		wantTok  string
		wantErr  bool
	}{
		{"OK/DataString", `{"data":"{\"query\":\"` + q + `\",\"variables\":{\"c\":\"c1\"}}","extensions":{"authorization":{"Authorization":"jwt","host":"h","x-amz-user-agent":"aws-amplify/6.22.1 api/1 framework/100"}}}`,
			map[string]any{"c": "c1"}, "", "jwt", false},
		{"OK/DataObject", `{"data":{"query":"` + q + `","variables":{"c":"c1"},"operationName":"S"}}`,
			map[string]any{"c": "c1"}, "S", "", false},
		{"OK/NoExtensions", `{"data":"{\"query\":\"` + q + `\"}"}`, nil, "", "", false},
		{"ErrDataNotJSON", `{"data":"not json"}`, nil, "", "", true},
		{"ErrNoQuery", `{"data":"{\"variables\":{}}"}`, nil, "", "", true},
		{"ErrNoData", `{}`, nil, "", "", true},
		{"ErrPayloadNotObject", `"x"`, nil, "", "", true},
		{"ErrNoPayload", ``, nil, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, auth, err := decodeStart([]byte(tt.payload))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if p.Query != q {
				t.Errorf("query = %q, want %q", p.Query, q)
			}
			if diff := cmp.Diff(tt.wantVars, p.Variables); diff != "" && !(len(tt.wantVars) == 0 && len(p.Variables) == 0) {
				t.Errorf("variables (-want +got):\n%s", diff)
			}
			if p.OperationName != tt.wantOp {
				t.Errorf("operationName = %q, want %q", p.OperationName, tt.wantOp)
			}
			if got := tokenOf(auth); got != tt.wantTok {
				t.Errorf("token = %q, want %q", got, tt.wantTok)
			}
		})
	}
}
