package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/e2e"
	"github.com/tend-app/tend/internal/fakegemini"
	"github.com/tend-app/tend/internal/testwait"
)

// The model failing in the real process, through the real genai client:
// the first run of a key meets a 503 without RetryInfo, a 429 with
// RetryInfo, an answer slower than TEND_MODEL_TIMEOUT and a truncated
// answer — four tries, so the key is requeued; the second run meets a 503
// with RetryInfo, a 429 without, an answer without candidates and a turn
// of bad function calls, and ends in the PR. Exactly ten model requests,
// every asked delay honoured, one PR with the model's content, nothing
// written to GitHub before the successful run submitted, no dead letter.
func TestModelFaultsEndToEnd(t *testing.T) {
	const (
		timeout   = 1500 * time.Millisecond
		retryBase = 50 * time.Millisecond
		quota     = 500 * time.Millisecond
		overload  = 300 * time.Millisecond
	)
	badCalls := fakegemini.Fixed(fakegemini.Reply{AllowUndeclared: true, Parts: []fakegemini.Part{
		{FunctionCall: &fakegemini.FunctionCall{Name: "read_file", Args: map[string]any{"path": 42}}},
		{FunctionCall: &fakegemini.FunctionCall{Name: "frobnicate", Args: map[string]any{}}},
	}})
	toolErrors := func(req fakegemini.Request) error {
		for name, want := range map[string]string{"read_file": "must be a string, not a number", "frobnicate": "there is no tool"} {
			fr, ok := req.FunctionResponse(name)
			if msg, _ := fr.Response["error"].(string); !ok || !strings.Contains(msg, want) {
				return fmt.Errorf("%s answered %v, want an error saying %q", name, fr.Response, want)
			}
		}
		return nil
	}
	gem := fakegemini.New(t,
		// Run 1: four failed tries, then a requeue.
		fakegemini.Unavailable(0),
		fakegemini.QuotaExceeded(quota),
		fakegemini.Delayed(30*time.Second, fakegemini.Call("read_file", map[string]any{"path": "docs/a.md"})),
		fakegemini.Truncated(0, fakegemini.Call("read_file", map[string]any{"path": "docs/a.md"})),
		// Run 2.
		fakegemini.Unavailable(overload),
		fakegemini.QuotaExceeded(0),
		fakegemini.Raw(200, `{"candidates":[]}`),
		badCalls,
		fakegemini.Expect(toolErrors, fakegemini.Call("write_file", map[string]any{"path": "docs/a.md", "content": "# A\n\nText.\n\nReviewed.\n"})),
		fakegemini.Call("submit", map[string]any{"title": "Mark docs/a.md reviewed", "summary": "Adds the closing line."}),
	)
	cfg := "version: 1\nrules:\n  - {name: docs, reconciler: agent, paths: [\"docs/*.md\"], prompt: \"Every doc ends with a line 'Reviewed.'\"}\n"
	w := newWorld(t, nil, worldOptions{repo: "acme/web", webhooks: true,
		files: map[string]string{".github/tend.yaml": cfg, "README.md": "hi\n"},
		env: map[string]string{"GEMINI_API_KEY": canaryModelKey, "GOOGLE_GEMINI_BASE_URL": gem.URL(), "TEND_MODEL": "gemini-e2e",
			"TEND_MODEL_TIMEOUT": timeout.String(), "TEND_MODEL_RETRY_BASE": retryBase.String()},
	})
	w.gh.Commit("acme/web", "main", map[string]string{"docs/a.md": "# A\n\nText.\n"}, nil, "alice", "Add a doc")
	branch := botpr.BranchName(mustKey(t, "acme/web:docs:docs/a.md"))
	testwait.For(t, 60*time.Second, func() bool { return len(w.openPRs()) == 1 }, "the PR despite the model's faults")
	w.settle(t)

	pr := w.prFor(t, branch)
	if got, _ := w.gh.File("acme/web", branch, "docs/a.md"); got != "# A\n\nText.\n\nReviewed.\n" {
		t.Errorf("PR content %q", got)
	}
	reqs := gem.Requests()
	if len(reqs) != 10 {
		t.Fatalf("%d model requests, want 10 (4 in the requeued run, 6 in the one that worked)", len(reqs))
	}
	gap := func(i int) time.Duration { return reqs[i+1].Time.Sub(reqs[i].Time) }
	for _, c := range []struct {
		after int
		what  string
		least time.Duration
	}{
		{1, "429 with RetryInfo", quota},
		{3, "the requeue (30 × TEND_MODEL_RETRY_BASE)", 30 * retryBase},
		{4, "503 with RetryInfo", overload},
	} {
		t.Logf("after request %d (%s): next request %s later (asked for at least %s)", c.after, c.what, gap(c.after).Round(time.Millisecond), c.least)
		if gap(c.after) < c.least {
			t.Errorf("after %s the next request came %s later, want at least %s", c.what, gap(c.after), c.least)
		}
	}
	if !reqs[2].Abandoned {
		t.Errorf("the answer slower than TEND_MODEL_TIMEOUT was not given up on")
	}
	t.Logf("the answer slower than TEND_MODEL_TIMEOUT (%s): the next request came %s later", timeout, gap(2).Round(time.Millisecond))
	if d := gap(2); d < timeout || d > timeout+10*time.Second {
		t.Errorf("the slow call was given up after %s, want about %s", d, timeout)
	}
	// Nothing reached GitHub's git data or pulls before the model submitted.
	submitted := reqs[9].Time
	for _, r := range w.gh.Requests() {
		if (strings.HasPrefix(r.Operation, "git/create") || strings.HasPrefix(r.Operation, "git/update") || r.Operation == "pulls/create") && r.Time.Before(submitted) {
			t.Errorf("%s at %s, before the model submitted at %s", r.Operation, r.Time.Format(time.StampMilli), submitted.Format(time.StampMilli))
		}
	}
	runs := w.checkRunsOn(pr.HeadSHA)
	if len(runs) != 1 || runs[0].Conclusion != "success" || !strings.Contains(runs[0].Output.Text, "`frobnicate`") {
		t.Errorf("check runs %+v", runs)
	}
	dead, _, err := e2e.Run(map[string]string{"TEND_DATA_DIR": w.tend.DataDir}, "dlq", "list")
	if err != nil || !strings.Contains(dead, "no dead letters") {
		t.Errorf("dead letters: %v\n%s", err, dead)
	}
	if !strings.Contains(w.logs.String(), "run must wait; requeued") {
		t.Errorf("the first run was not requeued")
	}
}
