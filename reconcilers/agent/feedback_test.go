package agent_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/fakegemini"
	"github.com/tend-app/tend/internal/fakegithub"
	"github.com/tend-app/tend/internal/keys"
)

// A CI round whose agent finds the failure unrelated submits the PR
// unchanged; the head keeps failing, so the next run hands the PR to a
// person at once (one round per head). A writer's review on the held PR
// still gets a round; CI alone calls the model no more.
func TestCIRoundWithoutChangeHolds(t *testing.T) {
	h := newHarness(t, map[string]string{"docs/a.md": "# A\n"},
		fakegemini.Call("write_file", map[string]any{"path": "docs/a.md", "content": "# A\n\nReviewed.\n"}),
		fakegemini.Call("submit", map[string]any{"title": "Review", "summary": "Adds the line."}),
		fakegemini.Expect(func(req fakegemini.Request) error {
			if !strings.Contains(req.UserText(), "feedback round 1 of 3") || !strings.Contains(req.UserText(), "flaky network") {
				return fmt.Errorf("not the CI round: %s", req.UserText())
			}
			return nil
		}, fakegemini.Call("submit", map[string]any{"title": "Review", "summary": "The failing check is unrelated: a flaky network test."})),
		fakegemini.Expect(func(req fakegemini.Request) error {
			if !strings.Contains(req.UserText(), "Use a level-one heading.") || strings.Contains(req.UserText(), "CI failed") {
				return fmt.Errorf("not the review round: %s", req.UserText())
			}
			return nil
		}, fakegemini.Call("write_file", map[string]any{"path": "docs/a.md", "content": "# A\n\nReviewed by tend.\n"})),
		fakegemini.Call("submit", map[string]any{"title": "Review", "summary": "As the reviewer asked."}),
		fakegemini.Expect(func(req fakegemini.Request) error {
			if !strings.Contains(req.UserText(), "feedback round 1 of 3") || !strings.Contains(req.UserText(), "lint says no") {
				return fmt.Errorf("not a fresh first CI round: %s", req.UserText())
			}
			return nil
		}, fakegemini.Call("write_file", map[string]any{"path": "docs/a.md", "content": "# A\n\nReviewed by tend, linted.\n"})),
		fakegemini.Call("submit", map[string]any{"title": "Review", "summary": "Lint fixed."}),
	)
	key := "acme/web:docs:docs/a.md"
	branch := botpr.BranchName(keys.MustParse(key))
	if res := h.run(t, key, "resync"); res.Outcome != "pr-opened" {
		t.Fatalf("outcome %s", res.Outcome)
	}
	head := h.pr(t, branch).HeadSHA
	h.gh.AddForeignCheckRun("acme/web", head, fakegithub.App{ID: 99, Slug: "other-ci"}, "net", "failure", fakegithub.CheckRunOutput{Title: "flaky network", Summary: "timeout"})
	if res := h.run(t, key, "check_suite:completed"); res.Outcome != "up-to-date" {
		t.Fatalf("CI round outcome %s", res.Outcome)
	}
	pr := h.pr(t, branch)
	if st, _ := botpr.ParseState(pr.Body); pr.HeadSHA != head || st.Feedback == nil || st.Feedback.Rounds != 1 || st.Feedback.RoundHead != head {
		t.Fatalf("after the round: head moved %v, feedback %+v", pr.HeadSHA != head, st.Feedback)
	}
	// The head fails again, and a writer asks for a change: the PR is
	// handed to people, and the review still gets its round.
	h.gh.SetPermission("acme/web", "bob", "write")
	rid, _ := h.gh.AddReview("acme/web", pr.Number, "bob", "CHANGES_REQUESTED", "Use a level-one heading.")
	if res := h.run(t, key, "pull_request_review:submitted"); res.Outcome != "pr-updated" {
		t.Fatalf("outcome %s, want pr-updated (the review round after the hold)", res.Outcome)
	}
	if st, _ := botpr.ParseState(h.pr(t, branch).Body); st.Feedback == nil || !st.Feedback.NeedsHuman || st.Feedback.ReviewSeen != rid {
		t.Fatalf("after hold and review: %+v", st.Feedback)
	}
	if pr := h.pr(t, branch); !slices.Contains(pr.Labels, botpr.NeedsHumanLabel) || len(pr.Comments) != 1 || !strings.Contains(pr.Comments[0].Body, "round 1, on "+head[:7]+": `net` (failure)") {
		t.Errorf("labels %v, comments %+v", pr.Labels, pr.Comments)
	}
	if n := len(h.gem.Requests()); n != 5 {
		t.Errorf("%d model requests, want 5", n)
	}
	// Held: a resync neither calls the model nor comments again.
	if res := h.run(t, key, "resync"); res.Outcome != "needs-human" || len(h.pr(t, branch).Comments) != 1 {
		t.Errorf("held run: %s, %d comments", res.Outcome, len(h.pr(t, branch).Comments))
	}
	// A person asks for a run ("Reconcile now", like /reconcile): the hold
	// is lifted, the label comes off, and the agent gets a first round again.
	h.gh.AddForeignCheckRun("acme/web", h.pr(t, branch).HeadSHA, fakegithub.App{ID: 99, Slug: "other-ci"}, "lint", "failure", fakegithub.CheckRunOutput{Title: "lint says no"})
	if res := h.run(t, key, "check_run:requested_action:reconcile"); res.Outcome != "pr-updated" {
		t.Fatalf("outcome %s after the button, want pr-updated", res.Outcome)
	}
	pr = h.pr(t, branch)
	if st, _ := botpr.ParseState(pr.Body); slices.Contains(pr.Labels, botpr.NeedsHumanLabel) || st.Feedback == nil || st.Feedback.NeedsHuman || st.Feedback.Rounds != 1 {
		t.Errorf("after the button: labels %v, feedback %+v", pr.Labels, st.Feedback)
	}
	if n := len(h.gem.Requests()); n != 7 {
		t.Errorf("%d model requests, want 7", n)
	}
}

// ci_rounds: 0 turns CI feedback off; failing checks change nothing.
func TestCIRoundsOff(t *testing.T) {
	h := newHarness(t, map[string]string{"docs/a.md": "# A\n"},
		fakegemini.Call("write_file", map[string]any{"path": "docs/a.md", "content": "# A\n\nReviewed.\n"}),
		fakegemini.Call("submit", map[string]any{"title": "Review", "summary": "Adds the line."}),
	)
	h.gh.Commit("acme/web", "main", map[string]string{".github/tend.yaml": strings.Replace(docsConfig, "    paths: [\"docs/*.md\"]\n    prompt: \"Every doc must", "    paths: [\"docs/*.md\"]\n    ci_rounds: 0\n    prompt: \"Every doc must", 1)}, nil, "alice", "No CI rounds")
	h.run(t, "acme/web", "push")
	key := "acme/web:docs:docs/a.md"
	if res := h.run(t, key, "resync"); res.Outcome != "pr-opened" {
		t.Fatalf("outcome %s", res.Outcome)
	}
	pr := h.pr(t, botpr.BranchName(keys.MustParse(key)))
	h.gh.AddForeignCheckRun("acme/web", pr.HeadSHA, fakegithub.ActionsApp, "build", "failure", fakegithub.CheckRunOutput{Title: "broken"})
	if res := h.run(t, key, "check_suite:completed"); res.Outcome != "unchanged" {
		t.Errorf("outcome %s, want unchanged", res.Outcome)
	}
	if n := len(h.gem.Requests()); n != 2 {
		t.Errorf("%d model requests, want 2", n)
	}
}
