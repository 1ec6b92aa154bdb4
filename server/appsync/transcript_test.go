package appsync_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/server/realtime"
)

// transcript is one testdata/transcript_*.json file: a conversation with
// the server, frame by frame, as a real client sees it on the wire.
//
// ${conv} (alice and bob's conversation) and ${own} (eve's own) are
// replaced before the file is parsed; tokens are "tok-alice", "tok-bob",
// "tok-eve", and anything else is unknown to the server.
type transcript struct {
	Doc    string `json:"doc"`
	Config struct {
		MaxSubscriptions int `json:"maxSubscriptions"`
	} `json:"config"`
	Dial struct {
		Token     string `json:"token"`
		Via       string `json:"via"`
		RawHeader string `json:"rawHeader"`
	} `json:"dial"`
	Steps []step `json:"steps"`
}

// step is exactly one of: send a frame; send raw text; expect the next
// frame (Recv); have a user send a message through the chat service; or
// expect the server to close with a code (Close).
type step struct {
	Send        json.RawMessage `json:"send"`
	SendText    *string         `json:"sendText"`
	Recv        json.RawMessage `json:"recv"`
	SendMessage *struct {
		As           string `json:"as"`
		Conversation string `json:"conversation"`
		Content      string `json:"content"`
	} `json:"sendMessage"`
	Close int `json:"close"`
}

// TestTransport_Transcripts replays every transcript against a fresh
// server. A recv step matches when the frame has exactly the top-level
// keys given, and each value matches: objects by the keys given (others
// allowed), arrays element by element, "*" anything present. No frame
// may arrive that the transcript does not list (keep-alives included: the
// interval is long enough that only the one after the ack is sent).
func TestTransport_Transcripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "transcript_*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts in testdata (%v)", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(file), "transcript_"), ".json")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			runTranscript(t, file)
		})
	}
}

func runTranscript(t *testing.T, file string) {
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var probe transcript
	if err := json.Unmarshal(raw, &probe); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	e := newEnv(t, realtime.Config{MaxSubscriptions: probe.Config.MaxSubscriptions})
	users := map[string]confab.Identity{}
	for _, n := range []string{"alice", "bob", "eve"} {
		users[n] = e.user(t, n)
	}
	conv := e.conversation(t, users["alice"], users["bob"])
	own := e.conversation(t, users["eve"])
	text := strings.NewReplacer("${conv}", conv, "${own}", own).Replace(string(raw))
	var tr transcript
	if err := json.Unmarshal([]byte(text), &tr); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	via := tr.Dial.Via
	if via == "" {
		via = viaQuery
	}
	c := e.dial(t, tr.Dial.Token, via, tr.Dial.RawHeader)
	for i, s := range tr.Steps {
		where := fmt.Sprintf("%s step %d", filepath.Base(file), i+1)
		switch {
		case s.Send != nil:
			c.sendText(string(s.Send))
		case s.SendText != nil:
			c.sendText(*s.SendText)
		case s.Recv != nil:
			f := c.read()
			var want, got map[string]any
			if err := json.Unmarshal(s.Recv, &want); err != nil {
				t.Fatalf("%s: recv: %v", where, err)
			}
			if err := json.Unmarshal(f.raw, &got); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			if keys(got) != keys(want) {
				t.Fatalf("%s: frame %s has keys %s, want %s (want %s)", where, f.raw, keys(got), keys(want), s.Recv)
			}
			if err := match("", want, got); err != nil {
				t.Fatalf("%s: frame %s: %v (want %s)", where, f.raw, err, s.Recv)
			}
		case s.SendMessage != nil:
			e.send(t, users[s.SendMessage.As], s.SendMessage.Conversation, s.SendMessage.Content)
		case s.Close != 0:
			if got := c.waitClose(); got != s.Close {
				t.Fatalf("%s: closed with %d, want %d", where, got, s.Close)
			}
		default:
			t.Fatalf("%s: empty step", where)
		}
	}
}

func keys(m map[string]any) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

// match reports how got differs from want (see TestTransport_Transcripts).
func match(path string, want, got any) error {
	if want == "*" {
		if got == nil {
			return fmt.Errorf("%s: missing, want a value", path)
		}
		return nil
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s = %v, want an object", path, got)
		}
		for k, wv := range w {
			gv, present := g[k]
			if !present {
				return fmt.Errorf("%s.%s missing", path, k)
			}
			if err := match(path+"."+k, wv, gv); err != nil {
				return err
			}
		}
		return nil
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("%s = %v, want %d elements", path, got, len(w))
		}
		for i := range w {
			if err := match(fmt.Sprintf("%s[%d]", path, i), w[i], g[i]); err != nil {
				return err
			}
		}
		return nil
	default:
		if want != got {
			return fmt.Errorf("%s = %v, want %v", path, got, want)
		}
		return nil
	}
}
