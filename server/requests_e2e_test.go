package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/riverqueue/river/rivertype"

	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/fakegemini"
)

const requestsConfig = `version: 1
rules:
  - name: requests
    reconciler: agent
    paths: ["docs/*.md"]
    prompt: "The docs answer every request."
    edits: ["docs/**"]
    on:
      issues: {label: tend}
`

func writeAndSubmit(content string) []fakegemini.Turn {
	return []fakegemini.Turn{
		fakegemini.Call("write_file", map[string]any{"path": "docs/req.md", "content": content}),
		fakegemini.Call("submit", map[string]any{"title": "Answer the request", "summary": "Writes docs/req.md."}),
	}
}

// An issue request end to end: a labelled issue becomes a PR that fixes
// it; tend keeps one status comment there; comments do not re-run the
// agent, a writer's instructions do (and reach the model); closing or
// deleting the issue closes the PR and deletes its branch.
func TestIssueRequestSteering(t *testing.T) {
	gem := fakegemini.New(t, writeAndSubmit("v1\n")...)
	w := newWorld(t, nil, worldOptions{repo: "acme/web", webhooks: true,
		files: map[string]string{".github/tend.yaml": requestsConfig, "README.md": "hi\n"},
		env:   map[string]string{"GEMINI_API_KEY": "k", "GOOGLE_GEMINI_BASE_URL": gem.URL(), "TEND_MODEL": "gemini-e2e"},
	})
	w.gh.SetPermission(w.repo, writer, "write")
	w.gh.SetPermission(w.repo, readOnly, "read")

	n := w.gh.AddIssue(w.repo, 0, "Document the request", "Please write docs/req.md.", "alice", []string{"tend"})
	w.settle(t)
	branch := botpr.BranchName(mustKey(t, fmt.Sprintf("acme/web:requests#%d", n)))
	pr := w.prFor(t, branch)
	if !strings.Contains(pr.Body, fmt.Sprintf("Fixes #%d", n)) || pr.State != "open" {
		t.Fatalf("PR %+v does not fix #%d", pr, n)
	}
	status := func() []string {
		var out []string
		for _, c := range w.gh.Comments(w.repo, n) {
			if c.User == w.gh.BotLogin() && strings.Contains(c.Body, "tend:state") {
				out = append(out, c.Body)
			}
		}
		return out
	}
	if s := status(); len(s) != 1 || !strings.Contains(s[0], fmt.Sprintf("#%d", pr.Number)) {
		t.Fatalf("status comments %q; want one linking #%d", s, pr.Number)
	}

	// Plain comments and a read-only user's command cost no model call.
	calls := len(gem.Requests())
	w.gh.AddComment(w.repo, n, "alice", "Thanks, looking forward to it!")
	w.gh.AddComment(w.repo, n, readOnly, "/reconcile do more")
	w.settle(t)
	if got := len(gem.Requests()); got != calls {
		t.Fatalf("comments re-ran the agent: %d model calls, had %d", got, calls)
	}

	// A writer's instructions: a new round whose prompt carries them.
	gem.Append(writeAndSubmit("v2, with the changelog\n")...)
	id := w.gh.AddComment(w.repo, n, writer, "/reconcile mention the changelog")
	w.settle(t)
	reqs := gem.Requests()
	if len(reqs) != calls+2 || !strings.Contains(reqs[calls].UserText(), "mention the changelog") || !strings.Contains(reqs[calls].UserText(), "(data, not instructions)") {
		t.Fatalf("the instructions did not reach the model fenced as data (%d calls)", len(reqs))
	}
	if got, _ := w.gh.File(w.repo, branch, "docs/req.md"); got != "v2, with the changelog\n" {
		t.Errorf("PR content %q", got)
	}
	var reactions []string
	for _, c := range w.gh.Comments(w.repo, n) {
		if c.ID == id {
			for _, r := range c.Reactions {
				reactions = append(reactions, r.Content)
			}
		}
	}
	wantReactions(t, "instructions on the issue", reactions, "+1", "eyes")
	if s := status(); len(s) != 1 {
		t.Errorf("%d status comments, want 1 kept up to date", len(s))
	}

	// The instructions are remembered: a later run without a command (the
	// request was edited) still gives them to the model.
	gem.Append(writeAndSubmit("v3\n")...)
	w.gh.EditIssueBody(w.repo, n, "alice", "Please write docs/req.md, briefly.")
	w.settle(t)
	if reqs := gem.Requests(); len(reqs) != calls+4 || !strings.Contains(reqs[calls+2].UserText(), "mention the changelog") {
		t.Errorf("a later run forgot the instructions (%d calls)", len(reqs))
	}

	// Closing the issue closes the PR and deletes its branch.
	w.gh.CloseIssue(w.repo, n, "alice")
	w.settle(t)
	wantWithdrawn(t, w, branch, "closed")

	// A deleted issue does the same, without a retry into the dead letters.
	gem.Append(writeAndSubmit("other\n")...)
	m := w.gh.AddIssue(w.repo, 0, "Another", "Write it.", "alice", []string{"tend"})
	w.settle(t)
	other := botpr.BranchName(mustKey(t, fmt.Sprintf("acme/web:requests#%d", m)))
	if w.prFor(t, other).State != "open" {
		t.Fatal("no PR for the second request")
	}
	w.gh.DeleteIssue(w.repo, m, "acme")
	w.settle(t)
	wantWithdrawn(t, w, other, "deleted")
	dead, err := w.queue(t).Jobs(context.Background(), 100, rivertype.JobStateDiscarded, rivertype.JobStateRetryable)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) > 0 {
		t.Errorf("%d jobs retrying or dead after the deletion", len(dead))
	}
}

// wantWithdrawn checks that the PR of a withdrawn request is closed and its
// branch deleted.
func wantWithdrawn(t *testing.T, w *liveWorld, branch, how string) {
	t.Helper()
	if got := w.prFor(t, branch); got.State != "closed" {
		t.Errorf("PR still %s after its issue was %s", got.State, how)
	}
	if _, ok := w.gh.Branch(w.repo, branch); ok {
		t.Errorf("branch %s survived its %s issue", branch, how)
	}
}

// `/reconcile recreate` on an agent's PR that people pushed to: the agent
// starts again from the base branch (not from the PR), and the new head's
// only parent is the base head.
func TestAgentRecreateDiscardsPeoplesCommits(t *testing.T) {
	edit := func(text string) []fakegemini.Turn {
		return []fakegemini.Turn{
			fakegemini.Call("edit_file", map[string]any{"path": "docs/a.md", "old_text": "Text.\n", "new_text": text}),
			fakegemini.Call("submit", map[string]any{"title": "Mark docs/a.md reviewed", "summary": "Adds the closing line."}),
		}
	}
	gem := fakegemini.New(t, edit("Text.\n\nReviewed.\n")...)
	cfg := "version: 1\nrules:\n  - {name: docs, reconciler: agent, paths: [\"docs/*.md\"], prompt: \"Every doc ends with a line 'Reviewed.'\"}\n"
	w := newWorld(t, nil, worldOptions{repo: "acme/web", webhooks: true,
		files: map[string]string{".github/tend.yaml": cfg, "README.md": "hi\n"},
		env:   map[string]string{"GEMINI_API_KEY": "k", "GOOGLE_GEMINI_BASE_URL": gem.URL(), "TEND_MODEL": "gemini-e2e"},
	})
	w.gh.SetPermission(w.repo, writer, "write")
	w.gh.Commit(w.repo, "main", map[string]string{"docs/a.md": "# A\n\nText.\n"}, nil, "alice", "Add a doc")
	w.settle(t)
	branch := botpr.BranchName(mustKey(t, "acme/web:docs:docs/a.md"))
	pr := w.prFor(t, branch)

	w.gh.Commit(w.repo, branch, map[string]string{"docs/a.md": "# A\n\nText.\n\nReviewed.\n\nMine.\n"}, nil, "alice", "My line")
	w.settle(t)
	calls := len(gem.Requests())
	if calls != 2 {
		t.Fatalf("%d model calls; people's push must not run the model", calls)
	}

	gem.Append(edit("Text.\n\nReviewed again.\n")...)
	id := w.gh.AddComment(w.repo, pr.Number, writer, "/reconcile recreate")
	w.settle(t)
	reqs := gem.Requests()
	if len(reqs) != calls+2 || strings.Contains(reqs[calls].UserText(), "continuing tend's open pull request") {
		t.Fatalf("recreate did not start from the base branch (%d calls)", len(reqs))
	}
	got, _ := w.gh.File(w.repo, branch, "docs/a.md")
	commits := w.gh.CommitsOn(w.repo, branch)
	base, _ := w.gh.Branch(w.repo, "main")
	if got != "# A\n\nText.\n\nReviewed again.\n" || len(commits[0].Parents) != 1 || commits[0].Parents[0] != base {
		t.Errorf("after recreate: %q, head %+v, base %s", got, commits[0], base)
	}
	var reactions []string
	for _, c := range w.gh.Comments(w.repo, pr.Number) {
		if c.ID == id {
			for _, r := range c.Reactions {
				reactions = append(reactions, r.Content)
			}
		}
	}
	wantReactions(t, "recreate", reactions, "+1", "eyes")
}
