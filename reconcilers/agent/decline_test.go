package agent_test

import (
	"strings"
	"testing"

	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/fakegemini"
	"github.com/tend-app/tend/internal/keys"
)

// A proposal a person declined is not worked on again — no model call —
// until a file the run read changes; other files do not matter.
func TestDeclinedProposal(t *testing.T) {
	h := newHarness(t, map[string]string{"docs/a.md": "# A\n\nSome text.\n", "docs/b.md": "# B\n", "docs/c.md": "# C\n"},
		fakegemini.Call("read_file", map[string]any{"path": "docs/b.md"}),
		fakegemini.Call("edit_file", map[string]any{"path": "docs/a.md", "old_text": "Some text.\n", "new_text": "Some text.\n\nReviewed.\n"}),
		fakegemini.Call("submit", map[string]any{"title": "Review a", "summary": "Adds the line."}),
		fakegemini.Call("no_change", map[string]any{"reason": "b changed; a is fine as it is"}),
		fakegemini.Call("edit_file", map[string]any{"path": "docs/a.md", "old_text": "Some text.\n", "new_text": "Some text.\n\nReviewed.\n"}),
		fakegemini.Call("submit", map[string]any{"title": "Review a", "summary": "Adds the line, as asked."}),
	)
	h.gh.SetPermission("acme/web", "alice", "write")
	const key = "acme/web:docs:docs/a.md"
	if res := h.run(t, key, "push:aaa..bbb"); res.Outcome != "pr-opened" {
		t.Fatalf("outcome %s", res.Outcome)
	}
	pr := h.pr(t, botpr.BranchName(keys.MustParse(key)))
	st, _ := botpr.ParseState(pr.Body)
	if st.Proposal == nil || st.Proposal.Inputs == "" || st.Proposal.Reads["docs/b.md"] == "" || st.Proposal.Reads["docs/a.md"] == "" || st.Proposal.Reads["docs/c.md"] != "" {
		t.Fatalf("the PR's proposal = %+v; want the request and the files read (a and b)", st.Proposal)
	}
	h.gh.ClosePR("acme/web", pr.Number, "alice")
	calls := len(h.gem.Requests())

	if res := h.run(t, key, "pull_request:closed"); res.Outcome != "declined" {
		t.Errorf("after the close: %s", res.Outcome)
	}
	var notes []string
	for _, c := range h.gh.Comments("acme/web", pr.Number) {
		if c.User == h.gh.BotLogin() {
			notes = append(notes, c.Body)
		}
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "prompt") || !strings.Contains(notes[0], "2 file(s) the agent read") {
		t.Errorf("comments on the declined PR = %q", notes)
	}
	h.gh.Commit("acme/web", "main", map[string]string{"docs/c.md": "# C\n\nMore.\n"}, nil, "alice", "Edit c")
	if res := h.run(t, key, "resync"); res.Outcome != "declined" || len(h.gem.Requests()) != calls {
		t.Errorf("after an edit to a file the run did not read: %s, %d model calls", res.Outcome, len(h.gem.Requests())-calls)
	}

	h.gh.Commit("acme/web", "main", map[string]string{"docs/b.md": "# B\n\nChanged.\n"}, nil, "alice", "Edit b")
	if res := h.run(t, key, "resync"); res.Outcome == "declined" || len(h.gem.Requests()) != calls+1 {
		t.Errorf("after an edit to a file the run read: %s, %d model calls", res.Outcome, len(h.gem.Requests())-calls)
	}
	if res := h.run(t, key, "resync"); res.Outcome != "unchanged" {
		t.Errorf("a resync after the model found nothing to do: %s", res.Outcome)
	}

	// A writer asks for it anyway: one model run, and the PR is reopened.
	h.gh.AddComment("acme/web", pr.Number, "alice", "/reconcile")
	calls = len(h.gem.Requests())
	if res := h.run(t, key, "issue_comment:reconcile"); res.Outcome != "up-to-date" && res.Outcome != "pr-updated" {
		t.Errorf("after /reconcile on the declined PR: %s", res.Outcome)
	}
	if got := h.pr(t, pr.HeadRef); got.State != "open" || got.Number != pr.Number {
		t.Errorf("the declined PR was not reopened: %+v", got)
	}
	if res := h.run(t, key, "resync"); res.Outcome != "unchanged" || len(h.gem.Requests()) != calls+2 {
		t.Errorf("after the reopened PR: %s, %d model calls since /reconcile (want 2)", res.Outcome, len(h.gem.Requests())-calls)
	}
	if n := len(h.gh.PullRequests("acme/web")); n != 1 {
		t.Errorf("%d PRs, want 1", n)
	}
}
