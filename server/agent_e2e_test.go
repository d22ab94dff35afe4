package main

import (
	"github.com/tend-app/tend/internal/botpr"

	"strings"
	"testing"

	"github.com/tend-app/tend/internal/fakegemini"
)

// The agent in the real process, reached through GOOGLE_GEMINI_BASE_URL: a
// push to a doc ends in the PR the scripted model wrote, with its trace in
// the check run, and the API key appears nowhere but in the model requests.
func TestAgentEndToEnd(t *testing.T) {
	const apiKey = "gem-key-must-not-leak-7f3a"
	gem := fakegemini.New(t,
		fakegemini.Call("read_file", map[string]any{"path": "docs/a.md"}),
		fakegemini.Call("edit_file", map[string]any{"path": "docs/a.md", "old_text": "Text.\n", "new_text": "Text.\n\nReviewed.\n"}),
		fakegemini.Call("submit", map[string]any{"title": "Mark docs/a.md reviewed", "summary": "Adds the closing line."}),
	)
	cfg := "version: 1\nrules:\n  - {name: docs, reconciler: agent, paths: [\"docs/*.md\"], prompt: \"Every doc ends with a line 'Reviewed.'\"}\n"
	w := newWorld(t, nil, worldOptions{repo: "acme/web", webhooks: true,
		files: map[string]string{".github/tend.yaml": cfg, "README.md": "hi\n"},
		env:   map[string]string{"GEMINI_API_KEY": apiKey, "GOOGLE_GEMINI_BASE_URL": gem.URL(), "TEND_MODEL": "gemini-e2e"},
	})
	w.gh.Commit("acme/web", "main", map[string]string{"docs/a.md": "# A\n\nText.\n"}, nil, "alice", "Add a doc")
	w.settle(t)
	branch := botpr.BranchName(mustKey(t, "acme/web:docs:docs/a.md"))
	pr := w.prFor(t, branch)
	if got, _ := w.gh.File("acme/web", branch, "docs/a.md"); got != "# A\n\nText.\n\nReviewed.\n" {
		t.Errorf("PR content %q", got)
	}
	runs := w.checkRunsOn(pr.HeadSHA)
	if len(runs) != 1 || runs[0].Conclusion != "success" || !strings.Contains(runs[0].Output.Text, "`edit_file`") {
		t.Fatalf("check runs %+v", runs)
	}
	reqs := gem.Requests()
	if len(reqs) != 3 || reqs[0].Model != "gemini-e2e" || reqs[0].APIKey != apiKey {
		t.Errorf("model requests: %d, model %q", len(reqs), reqs[0].Model)
	}
	if !strings.Contains(reqs[0].UserText(), "docs/a.md") {
		t.Errorf("the first prompt does not name the path")
	}
	for _, where := range []string{w.logs.String(), pr.Body, runs[0].Output.Summary, runs[0].Output.Text} {
		if strings.Contains(where, apiKey) {
			t.Errorf("the API key leaked")
		}
	}
}
