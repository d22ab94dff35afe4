package botpr

import (
	"strings"
	"testing"
)

func TestFeedbackRecord(t *testing.T) {
	f := &Feedback{}
	for i := range 3 * MaxTried {
		f.AddTried(strings.Repeat("x", 300) + string(rune('a'+i%26)))
	}
	if len(f.Tried) != MaxTried || !strings.HasSuffix(f.Tried[MaxTried-1], string(rune('a'+(3*MaxTried-1)%26))) {
		t.Fatalf("Tried keeps %d lines, last %q", len(f.Tried), f.Tried[len(f.Tried)-1])
	}
	c := f.Clone()
	c.Tried[0] = "changed"
	if f.Tried[0] == "changed" || (*Feedback)(nil).Clone() != nil {
		t.Errorf("Clone shares Tried, or a nil record clones to non-nil")
	}
	// A full record still fits the state block and parses back.
	f.Rounds, f.RoundHead, f.NeedsHuman, f.ReviewSeen, f.CommentSeen = 3, strings.Repeat("a", 40), true, 1<<40, 1<<41
	body := "text\n\n" + FormatState(State{Key: "acme/web:docs:docs/a.md", Feedback: f})
	st, ok := ParseState(body)
	if !ok || st.Feedback == nil || st.Feedback.Rounds != 3 || st.Feedback.CommentSeen != 1<<41 || len(st.Feedback.Tried) != MaxTried {
		t.Errorf("round trip: %v %+v", ok, st.Feedback)
	}
}
