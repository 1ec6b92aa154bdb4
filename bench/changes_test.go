package bench

import (
	"strings"
	"testing"
)

// TestMixer: exactly the mix of operations are changes, evenly spread,
// alternating edits and reactions, reactions toggled on the newest
// message, nothing before the sender has a message.
func TestMixer(t *testing.T) {
	m := &mixer{mix: 0.1}
	if _, ok := m.next(); ok {
		t.Fatal("a change before any message was sent")
	}
	m.sent("conv", "first")
	var kinds []changeKind
	ops := 0
	for i := range 1000 {
		ops++
		c, ok := m.next()
		if !ok {
			m.sent("conv", "m"+string(rune('a'+i%26)))
			continue
		}
		if c.conv != "conv" || c.messageID != m.lastID {
			t.Fatalf("change %+v is not on the newest message %s", c, m.lastID)
		}
		kinds = append(kinds, c.kind)
		m.done(c)
	}
	if len(kinds) != 100 {
		t.Fatalf("%d changes in %d operations at mix 0.1, want 100", len(kinds), ops)
	}
	edits, reacts := 0, 0
	for i, k := range kinds {
		if (k == changeEdit) != (i%2 == 0) {
			t.Fatalf("change %d is %v: edits and reactions must alternate", i, k)
		}
		if k == changeEdit {
			edits++
		} else {
			reacts++
		}
	}
	if edits != 50 || reacts != 50 {
		t.Fatalf("%d edits, %d reactions; want 50 each", edits, reacts)
	}

	// Two reactions on one message: added, then removed.
	m = &mixer{mix: 0.5}
	m.sent("c", "x")
	var got []changeKind
	for range 8 {
		if c, ok := m.next(); ok {
			got = append(got, c.kind)
			m.done(c)
		}
	}
	want := []changeKind{changeEdit, changeReact, changeEdit, changeUnreact}
	if len(got) != len(want) {
		t.Fatalf("changes %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("changes %v, want %v", got, want)
		}
	}
}

func TestCheckChangeMix(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		err  string
	}{
		{"Off", Config{}, ""},
		{"Tenth", Config{ChangeMix: 0.1}, ""},
		{"ErrNegative", Config{ChangeMix: -0.1}, "not between"},
		{"ErrTooHigh", Config{ChangeMix: 0.6}, "not between"},
		{"ErrBaseline", Config{ChangeMix: 0.1, Baseline: true}, "baseline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkChangeMix(tt.cfg)
			if (tt.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("checkChangeMix(%+v) = %v, want %q", tt.cfg, err, tt.err)
			}
		})
	}
}
