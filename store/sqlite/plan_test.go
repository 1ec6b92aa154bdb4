package sqlite

import (
	"strings"
	"testing"
)

// The reads of issue 12 walk their own index, never the whole
// conversation, and never sort: a partial index is taken only when the
// query names its condition, which a small rewrite would silently lose.
func TestStore_ChangeReadsUseTheirIndex(t *testing.T) {
	s := openTemp(t)
	for _, tt := range []struct {
		name, query, index string
		args               []any
	}{
		{"ListMessages", listTimeline, "messages_timeline", []any{"c", 10, 100}},
		{"ListThread oldest first", listThreadAfter, "messages_thread", []any{"c", "root", 0, 100}},
		{"ListThread newest first", listThreadBefore, "messages_thread", []any{"c", "root", 10, 100}},
		{"CountUnreadReplies", countUnreadReplies(2), "messages_thread", []any{"c", "u", "r1", "r2"}},
	} {
		if got := queryPlan(t, s, tt.query, tt.args...); !strings.Contains(got, "INDEX "+tt.index) || strings.Contains(got, "TEMP B-TREE") {
			t.Errorf("%s plan = %q, want a walk of %s with no sort", tt.name, got, tt.index)
		}
	}
}

// queryPlan returns the details of EXPLAIN QUERY PLAN for q, joined by "; ".
func queryPlan(t *testing.T, s *Store, q string, args ...any) string {
	t.Helper()
	rows, err := s.read.Query(`EXPLAIN QUERY PLAN `+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "; ")
}
