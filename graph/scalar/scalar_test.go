package scalar

import (
	"bytes"
	"testing"
	"time"
)

func TestUnmarshalAWSDateTime(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string // RFC 3339 in UTC, "" for an error
	}{
		{"Z", "2026-11-25T05:18:48.106Z", "2026-11-25T05:18:48.106Z"},
		{"offset", "2026-11-25T07:18:48+02:00", "2026-11-25T05:18:48Z"},
		{"nanos", "2026-11-25T05:18:48.123456789Z", "2026-11-25T05:18:48.123456789Z"},
		{"ErrNoZone", "2026-11-25T05:18:48", ""},
		{"ErrDateOnly", "2026-11-25", ""},
		{"ErrNumber", 12345, ""},
		{"ErrGarbage", "yesterday", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := UnmarshalAWSDateTime(tt.in)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("UnmarshalAWSDateTime(%v) = %v, want error", tt.in, got)
				}
				return
			}
			if err != nil || got.Format(time.RFC3339Nano) != tt.want {
				t.Fatalf("UnmarshalAWSDateTime(%v) = %v, %v; want %s", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestMarshalAWSDateTime_UTCMilliseconds(t *testing.T) {
	in := time.Date(2026, 11, 25, 7, 18, 48, 106_999_000, time.FixedZone("x", 2*3600))
	var buf bytes.Buffer
	MarshalAWSDateTime(in).MarshalGQL(&buf)
	if got, want := buf.String(), `"2026-11-25T05:18:48.106Z"`; got != want {
		t.Fatalf("MarshalAWSDateTime = %s, want %s", got, want)
	}
}

func TestUnmarshalAWSEmail(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"a@example.com", true},
		{"first.last+tag@sub.example.org", true},
		{"Name <a@example.com>", false},
		{"not-an-email", false},
		{"", false},
		{"a@", false},
	}
	for _, tt := range tests {
		_, err := UnmarshalAWSEmail(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("UnmarshalAWSEmail(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}
