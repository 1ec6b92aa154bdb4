package gqlws

import (
	"encoding/json"
	"testing"
)

// FuzzDecodeFrame feeds arbitrary client frames through the decoding the
// reader does: the frame, a subscribe payload, a connection_init payload.
// It must never panic, and an accepted subscribe always has a query.
func FuzzDecodeFrame(f *testing.F) {
	f.Add([]byte(`{"type":"connection_init","payload":{"Authorization":"Bearer x"}}`))
	f.Add([]byte(`{"id":"1","type":"subscribe","payload":{"query":"subscription { x }","variables":{"a":1}}}`))
	f.Add([]byte(`{"type":"subscribe","payload":null}`))
	f.Add([]byte(`{"type":"connection_init","payload":{"headers":{"authorization":"t"}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var m message
		if json.Unmarshal(data, &m) != nil {
			return
		}
		if p, err := decodeSubscribe(m.Payload); err == nil && p.Query == "" {
			t.Fatal("accepted a subscribe payload without a query")
		}
		var payload map[string]any
		if json.Unmarshal(m.Payload, &payload) == nil {
			TokenFrom(payload)
		}
	})
}

func TestTokenFrom(t *testing.T) {
	tests := []struct {
		payload map[string]any
		want    string
	}{
		{map[string]any{"Authorization": "a"}, "a"},
		{map[string]any{"authorization": "Bearer b"}, "Bearer b"},
		{map[string]any{"headers": map[string]any{"Authorization": "c"}}, "c"},
		{map[string]any{"authToken": "d"}, "d"},
		{map[string]any{"token": "e"}, "e"},
		{map[string]any{"Authorization": 42}, ""},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := TokenFrom(tt.payload); got != tt.want {
			t.Errorf("TokenFrom(%v) = %q, want %q", tt.payload, got, tt.want)
		}
	}
}
