package web

import (
	"bufio"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"testing"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/auth"
)

func TestAssets(t *testing.T) {
	a := Assets()
	_, err := fs.Stat(a, "index.html")
	if Built() != (err == nil) {
		t.Fatalf("Built() = %v but index.html stat err = %v", Built(), err)
	}
	if _, err := fs.Stat(a, ".gitkeep"); err != nil {
		t.Fatalf("Assets() is not rooted at dist/: %v", err)
	}
}

// limitLine is one constant of src/limits.ts: name, decimal value and the Go
// name in its trailing comment.
var limitLine = regexp.MustCompile(`^export const (\w+) = (\d+); // (.+)$`)

// TestLimits_MirrorServer fails when src/limits.ts, the web client's copy of
// the server's limits, differs from the Go values it names, or when a limit is
// on one side only.
func TestLimits_MirrorServer(t *testing.T) {
	want := []struct {
		ts, goName string
		value      int64
	}{
		{"maxContentBytes", "confab.DefaultMaxContentBytes", confab.DefaultMaxContentBytes},
		{"maxConversationNameBytes", "confab.MaxConversationName", confab.MaxConversationName},
		{"maxPreviewLength", "confab.MaxLastMessageLength", confab.MaxLastMessageLength},
		{"maxParticipants", "confab.MaxParticipants", confab.MaxParticipants},
		{"maxSearchTermBytes", "confab.MaxSearchTermBytes", confab.MaxSearchTermBytes},
		{"maxSearchWords", "confab.MaxSearchWords", confab.MaxSearchWords},
		{"maxMentions", "confab.MaxMentions", confab.MaxMentions},
		{"maxUsernameBytes", "confab.MaxUsernameBytes", confab.MaxUsernameBytes},
		{"maxEmailBytes", "confab.MaxEmailBytes", confab.MaxEmailBytes},
		{"maxDisplayNameBytes", "confab.MaxDisplayNameBytes", confab.MaxDisplayNameBytes},
		{"minPasswordLength", "auth.DefaultPasswordPolicy.MinLength", int64(auth.DefaultPasswordPolicy.MinLength)},
		{"maxPasswordLength", "auth.DefaultPasswordPolicy.MaxLength", int64(auth.DefaultPasswordPolicy.MaxLength)},
		{"maxReasonBytes", "confab.MaxReasonBytes", confab.MaxReasonBytes},
		{"maxSlowModeSeconds", "confab.MaxSlowMode", confab.MaxSlowMode},
		{"maxAddMembers", "confab.MaxAddMembers", confab.MaxAddMembers},
	}
	got := readLimits(t, "src/limits.ts")
	for _, w := range want {
		g, ok := got[w.ts]
		if !ok {
			t.Errorf("src/limits.ts lacks %s (%s = %d)", w.ts, w.goName, w.value)
			continue
		}
		delete(got, w.ts)
		if g.value != w.value {
			t.Errorf("src/limits.ts %s = %d, want %d (%s)", w.ts, g.value, w.value, w.goName)
		}
		if g.goName != w.goName {
			t.Errorf("src/limits.ts %s names %q, want %q", w.ts, g.goName, w.goName)
		}
	}
	for name, g := range got {
		t.Errorf("src/limits.ts %s (%s) is not checked here: add it to the table above", name, g.goName)
	}
}

type limit struct {
	value  int64
	goName string
}

// readLimits returns the constants of the limits file by name. A line that
// declares a constant in another form is an error: it would escape the check.
func readLimits(t *testing.T, path string) map[string]limit {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	declares := regexp.MustCompile(`^\s*export\s+(const|let|var)\s`)
	out := map[string]limit{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		m := limitLine.FindStringSubmatch(line)
		if m == nil {
			if declares.MatchString(line) {
				t.Errorf("%s:%d: not of the form `export const name = 123; // GoName`: %s", path, n, line)
			}
			continue
		}
		v, err := strconv.ParseInt(m[2], 10, 64)
		if err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		if _, dup := out[m[1]]; dup {
			t.Errorf("%s:%d: %s declared twice", path, n, m[1])
		}
		out[m[1]] = limit{value: v, goName: m[3]}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no limits found", path)
	}
	return out
}
