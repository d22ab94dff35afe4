package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/tend-app/tend/internal/e2e"
	"github.com/tend-app/tend/internal/testwait"
)

// Oversized inputs from outside, end to end: a 5 MB config, a 50 MB file under a
// mapped path, a push of 10,000 changed files, 1 MB release notes and issue
// bodies, webhooks of 10 MB and of 30 MB. Each gets a clear answer (HTTP
// status, or a failing check run naming the limit), tend never dies, and its
// peak memory stays bounded.
func TestOversizedInputsBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("moves tens of megabytes")
	}
	cfg := imagesConfig + "  - {name: docs, reconciler: agent, paths: [\"docs/*.md\"], prompt: p, edits: [\"docs/**\"], on: {issues: {label: tend}, release: [self]}}\n"
	w := newWorld(t, nil, worldOptions{repo: "acme/web", webhooks: true,
		files: map[string]string{".github/tend.yaml": cfg, "README.md": "hi\n"},
		env:   map[string]string{"TEND_RESYNC_TICK": "500ms"},
	})
	w.settle(t)

	// Release notes and an issue body of 1 MB.
	w.gh.AddRelease("acme/web", "v1.0.0", "v1", strings.Repeat("note ", 1<<20/5))
	w.gh.AddIssue("acme/web", 7, "Huge", strings.Repeat("body ", 1<<20/5), "alice", []string{"tend"})
	w.settle(t)

	steps := []string{fmt.Sprintf("1 MB release and issue: %d MB", peakMB(t, w))}
	// A push naming 10,000 changed files (GitHub truncates, but a
	// redelivered or forged payload may not): tend resyncs instead.
	files := make([]any, 10000)
	for i := range files {
		files[i] = fmt.Sprintf("deploy/f%05d.yaml", i)
	}
	push := pushPayload(t, map[string]any{"modified": files})
	resp := w.deliver(t, "push", push)
	if resp.Status != http.StatusOK || !strings.Contains(string(resp.Body), "acme/web:pin-images") {
		t.Errorf("push of 10,000 files: %d %s; want 200 and a resync of the rule", resp.Status, resp.Body)
	}
	// Webhooks of 10 MB (taken) and 30 MB (over the 25 MB limit: 413).
	for _, tc := range []struct {
		size int
		want int
	}{{10 << 20, http.StatusOK}, {30 << 20, http.StatusRequestEntityTooLarge}} {
		body := pushPayload(t, map[string]any{"message": strings.Repeat("m", tc.size), "modified": []any{"README.md"}})
		resp, err := w.tend.Deliver(t.Context(), "push", e2e.NewDeliveryID(), body)
		if err != nil {
			t.Fatalf("%d MB webhook: %v", tc.size>>20, err)
		}
		if resp.Status != tc.want {
			t.Errorf("%d MB webhook: status %d, want %d", tc.size>>20, resp.Status, tc.want)
		}
	}
	steps = append(steps, fmt.Sprintf("10,000-file push, 10 and 30 MB webhooks: %d MB", peakMB(t, w)))
	// A 5 MB config: reported on the commit, naming the limit.
	w.gh.Commit("acme/web", "main", map[string]string{".github/tend.yaml": cfg + strings.Repeat("# comment line of the config\n", 5<<20/29)}, nil, "alice", "Grow the config")
	testwait.For(t, 60*time.Second, func() bool { return checkRunSays(w, "tend / config", "limit") }, "a failing config check run naming the size limit")
	w.settle(t)

	if !w.tend.Alive() {
		t.Fatal("tend died")
	}
	peak := peakMB(t, w)
	steps = append(steps, fmt.Sprintf("5 MB config: %d MB", peak))
	if peak > 300 {
		t.Errorf("peak RSS %d MB, over the 300 MB bound", peak)
	}
	// A 50 MB file under a mapped path: the images rule does not search it
	// (its limit is 1 MB) and proposes nothing.
	big := "# big\n" + strings.Repeat("# padding padding padding padding padding padding padding\n", 50<<20/58)
	w.gh.Commit("acme/web", "main", map[string]string{".github/tend.yaml": cfg, "deploy/big.yaml": big}, nil, "alice", "Fix the config, add a huge manifest")
	testwait.For(t, 60*time.Second, func() bool {
		for _, j := range w.jobsIn(t, rivertype.JobStateCompleted) {
			if j.Key == "acme/web:pin-images:deploy/big.yaml" {
				return true
			}
		}
		return false
	}, "the run of deploy/big.yaml")
	w.settle(t)
	if n := len(w.openPRs()); n != 0 {
		t.Errorf("%d PRs for a 50 MB file, want none", n)
	}
	if !checkRunSays(w, "tend / pin-images", "too large") {
		t.Errorf("no check run says the 50 MB file is too large")
	}
	// The images reconciler stops reading past its size limit, so the 50 MB
	// file is held to the same bound as every other input.
	peak = peakMB(t, w)
	steps = append(steps, fmt.Sprintf("50 MB file: %d MB", peak))
	if peak > 300 {
		t.Errorf("peak RSS %d MB after the 50 MB file, over the 300 MB bound", peak)
	}
	if !w.tend.Alive() {
		t.Fatal("tend died on the 50 MB file")
	}

	t.Logf("peak RSS of tend after each step: %s", strings.Join(steps, ", "))
}

// checkRunSays reports whether a completed check run of that name that did
// not succeed mentions text.
func checkRunSays(w *liveWorld, name, text string) bool {
	for _, c := range w.gh.CheckRuns(w.repo) {
		out := c.Output.Title + c.Output.Summary + c.Output.Text
		for _, a := range c.Output.Annotations {
			out += a.Message
		}
		if c.Name == name && c.Status == "completed" && c.Conclusion != "success" && strings.Contains(out, text) {
			return true
		}
	}
	return false
}

// pushPayload is a push to acme/web's main branch with one commit carrying
// the given fields.
func pushPayload(t *testing.T, commit map[string]any) []byte {
	t.Helper()
	c := map[string]any{"id": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "message": "change", "added": []any{}, "removed": []any{}, "modified": []any{}}
	for k, v := range commit {
		c[k] = v
	}
	body, err := json.Marshal(map[string]any{
		"ref": "refs/heads/main", "before": "6113728f27ae82c7b1a177c8d03f9e96e0adf246", "after": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
		"created": false, "deleted": false, "forced": false, "commits": []any{c},
		"repository":   map[string]any{"id": 1, "name": "web", "full_name": "acme/web", "default_branch": "main", "owner": map[string]any{"login": "acme"}},
		"installation": map[string]any{"id": 7},
		"sender":       map[string]any{"login": "alice"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func peakMB(t *testing.T, w *liveWorld) int64 {
	t.Helper()
	peak, err := w.tend.PeakRSS()
	if err != nil {
		t.Fatal(err)
	}
	return peak >> 20
}
