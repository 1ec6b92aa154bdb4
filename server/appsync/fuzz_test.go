package appsync

import (
	"encoding/base64"
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
