package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/confab-chat/confab"
)

var searchTests = []test{
	{"SearchMessages/CaseInsensitivePrefix", testSearchCaseInsensitivePrefix},
	{"SearchMessages/AllWordsNewestFirst", testSearchAllWordsNewestFirst},
	{"SearchMessages/OnlyThatConversationLive", testSearchScope},
	{"SearchMessages/NoWordsEmpty", testSearchNoWords},
	{"SearchMessages/HostileInputSafe", testSearchHostile},
	{"SearchMessages/WordsPastMaxIgnored", testSearchWordsPastMax},
	{"EditMessage/SearchFollows", testEditSearch},
}

// RunSearch runs the contract's SearchMessages and SearchAllMessages
// properties alone, for a
// store that has more than one way to search (e.g. SQLite, index or scan)
// to run once per way.
func RunSearch(t *testing.T, open func(t *testing.T) confab.Store) {
	for _, tt := range slices.Concat(searchTests, searchAllTests) {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(newFixture(t, open(t)))
		})
	}
}

// search returns the contents found for terms, failing on an error.
func (f *fixture) search(c *confab.Conversation, terms string, limit int) []string {
	f.t.Helper()
	msgs, err := f.s.SearchMessages(f.ctx, c.ConversationID, terms, limit)
	if err != nil {
		f.t.Fatalf("SearchMessages(%q): %v", terms, err)
	}
	contents := make([]string, len(msgs))
	for i, m := range msgs {
		contents[i] = m.Content
	}
	return contents
}

func testSearchCaseInsensitivePrefix(f *fixture) {
	ann := f.user("ann")
	c := f.conversation(ann)
	f.send(c, ann, "Lunch at the Pizzeria")
	f.send(c, ann, "no match here")
	f.send(c, ann, "PIZZA again, at the Café")
	for _, tt := range []struct {
		terms string
		want  []string
	}{
		{"pizza", []string{"PIZZA again, at the Café"}},
		{"PIZZ", []string{"PIZZA again, at the Café", "Lunch at the Pizzeria"}},
		{"pizzeria", []string{"Lunch at the Pizzeria"}},
		{"cafe", []string{"PIZZA again, at the Café"}}, // diacritics folded
		{"CAFÉ", []string{"PIZZA again, at the Café"}},
		{"izza", nil}, // a prefix, not a substring
	} {
		if got := f.search(c, tt.terms, 10); !slices.Equal(got, tt.want) {
			f.t.Errorf("search %q = %q, want %q", tt.terms, got, tt.want)
		}
	}
}

func testSearchAllWordsNewestFirst(f *fixture) {
	ann := f.user("ann")
	c := f.conversation(ann)
	for _, s := range []string{"deploy friday", "deploy monday", "lunch friday", "Friday: deploy again", "deploy"} {
		f.send(c, ann, s)
	}
	if got, want := f.search(c, "fri DEPLOY", 10), []string{"Friday: deploy again", "deploy friday"}; !slices.Equal(got, want) {
		f.t.Fatalf("search of two words = %q, want %q (every word, newest first)", got, want)
	}
	if got, want := f.search(c, "deploy", 2), []string{"deploy", "Friday: deploy again"}; !slices.Equal(got, want) {
		f.t.Fatalf("search with limit 2 = %q, want the 2 newest %q", got, want)
	}
	if got := f.search(c, "deploy tuesday", 10); len(got) != 0 {
		f.t.Fatalf("search with an unmatched word = %q, want none", got)
	}
}

func testSearchScope(f *fixture) {
	ann := f.user("ann")
	c, other := f.conversation(ann), f.conversation(ann)
	keep := f.send(c, ann, "pizza tonight")
	gone := f.send(c, ann, "pizza tomorrow")
	f.send(other, ann, "pizza elsewhere")
	if _, _, err := f.s.DeleteMessage(f.ctx, c.ConversationID, gone.MessageID, "", f.now()); err != nil {
		f.t.Fatal(err)
	}
	msgs, err := f.s.SearchMessages(f.ctx, c.ConversationID, "pizza", 10)
	if err != nil || len(msgs) != 1 || msgs[0].MessageID != keep.MessageID || msgs[0].Seq != keep.Seq || msgs[0].ConversationID != c.ConversationID {
		f.t.Fatalf("search = %+v, %v; want only %s (this conversation, not deleted)", msgs, err, keep.MessageID)
	}
}

func testSearchNoWords(f *fixture) {
	ann := f.user("ann")
	c := f.conversation(ann)
	f.send(c, ann, "anything at all")
	for _, terms := range []string{"", "   ", "!?.,;", "*", `""`, "\x00"} {
		if got := f.search(c, terms, 10); len(got) != 0 {
			f.t.Errorf("search %q = %q, want none", terms, got)
		}
	}
}

// testSearchHostileInput searches for query syntax of FTS5, tsquery and SQL:
// terms is plain text, so each is words or nothing, never an error, and
// the data is intact afterwards.
func testSearchHostile(f *fixture) {
	ann := f.user("ann")
	c := f.conversation(ann)
	f.send(c, ann, "ordinary text with AND and OR and NEAR inside")
	for _, terms := range []string{
		`" OR 1=1 --`, `*`, `NEAR(`, `NEAR(a b)`, `'`, `"`, `)`, `(`, `AND`, `OR`, `NOT`, `and or not`,
		`col:x`, `content:ordinary`, `^ordinary`, `ordinary*`, `"ordinary"`, `{content}: x`, `a + b`,
		`'); DROP TABLE messages; --`, `\`, `%`, `_`, `!x & y | z`, `x <-> y`, `x:*`, "tab\there", "\u00a0", "\U0001F600",
		"\u0301", "e\u0301", "ǅ", "𝔘𝔫𝔦", "中文字", "\xff\xfe",
	} {
		if _, err := f.s.SearchMessages(f.ctx, c.ConversationID, terms, 10); err != nil {
			f.t.Errorf("search %q: %v", terms, err)
		}
	}
	if got := f.search(c, "AND near", 10); len(got) != 1 {
		f.t.Fatalf("keywords searched as words found %d, want 1", len(got))
	}
	if got := f.search(c, "ordinary", 10); len(got) != 1 {
		f.t.Fatalf("the messages are not intact after hostile searches: found %d, want 1", len(got))
	}
}

// testSearchWordsPastMax: the first confab.MaxSearchWords words of terms
// count and later ones are ignored, not refused (the README's limits
// table says so).
func testSearchWordsPastMax(f *fixture) {
	ann := f.user("ann")
	c := f.conversation(ann)
	words := make([]string, confab.MaxSearchWords)
	for i := range words {
		words[i] = fmt.Sprintf("w%d", i)
	}
	f.send(c, ann, strings.Join(words, " "))
	if got := f.search(c, strings.Join(words, " ")+" absent", 10); len(got) != 1 {
		f.t.Errorf("search of %d words and one more = %d messages, want 1 (the extra word ignored)", confab.MaxSearchWords, len(got))
	}
	if got := f.search(c, strings.Join(words[:confab.MaxSearchWords-1], " ")+" absent", 10); len(got) != 0 {
		f.t.Errorf("search whose %dth word is absent = %d messages, want none", confab.MaxSearchWords, len(got))
	}
}
