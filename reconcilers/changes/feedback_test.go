package changes

import (
	"strings"
	"testing"

	"github.com/tend-app/tend/internal/botpr"
)

func TestDescribeFeedbackTriggers(t *testing.T) {
	for trigger, want := range map[string]string{
		"check_run:failure":                   "checks on the pull request",
		"check_suite:completed":               "checks on the pull request",
		"status:error":                        "checks on the pull request",
		"workflow_run:completed":              "checks on the pull request",
		"pull_request_review:submitted":       "a review of the pull request",
		"pull_request_review_comment:created": "a review of the pull request",
		"check_run:rerequested":               "`check_run:rerequested`",
	} {
		if got := DescribeTrigger(trigger); got != want {
			t.Errorf("DescribeTrigger(%q) = %q, want %q", trigger, got, want)
		}
	}
}

// A regenerated PR keeps its feedback record unless the change brings a
// new one, and the check run shows the round count.
func TestFeedbackKeptAndShown(t *testing.T) {
	prev := botpr.State{Feedback: &botpr.Feedback{Rounds: 2, RoundHead: "abc", Tried: []string{"round 1"}}}
	c := &Change{CIRounds: 3}
	var st botpr.State
	c.keepFeedback(&st, prev)
	if st.Feedback == nil || st.Feedback.Rounds != 2 || st.Feedback == prev.Feedback {
		t.Fatalf("kept %+v (must be a copy of %+v)", st.Feedback, prev.Feedback)
	}
	if line := c.feedbackLine(); !strings.Contains(line, "2 of 3") {
		t.Errorf("feedback line %q", line)
	}
	c = &Change{Feedback: &botpr.Feedback{Rounds: 3, NeedsHuman: true}, CIRounds: 3}
	c.keepFeedback(&st, prev)
	if st.Feedback.Rounds != 3 || !strings.Contains(c.feedbackLine(), botpr.NeedsHumanLabel) {
		t.Errorf("new record not used: %+v, %q", st.Feedback, c.feedbackLine())
	}
	if line := FeedbackLine(nil, 3); line != "" {
		t.Errorf("no rounds: %q", line)
	}
}
