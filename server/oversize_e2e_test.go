package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/e2e"
	"github.com/tend-app/tend/internal/fakegithub"
)

// maxOversizePeakRSS bounds tend's peak memory while it handles the
// oversized inputs below: the memory target under load (300 MB). Measured:
// about 110 MB; 1.3 GB before the images reconciler stopped reading files
// over images.MaxFileBytes (a 50 MB file arrived as 67 MB of base64 JSON
// and was then parsed as YAML).
const maxOversizePeakRSS = 300 << 20

// Oversized inputs, each arriving the way it would from GitHub: a 5 MB
// config, a 50 MB file under a mapped path, a push of 10,000 changed files,
// a 10 MB webhook and a 1 MB release note and issue body. tend answers each
// with a clear error where one is due, keeps working, and its peak memory
// stays bounded.
func TestOversizedInputs(t *testing.T) {
	reg := newRegistry(t)
	reg.push(t, "acme/app", "1.0", false)
	reg.push(t, "acme/app", "2.0", false)
	cfg := imagesConfig + "    on: {release: [self]}\n"
	w := newWorld(t, reg, worldOptions{repo: "acme/web", webhooks: true, files: map[string]string{
		".github/tend.yaml": cfg, "deploy/app.yaml": deployment(reg.ref("acme/app", "1.0")),
	}})
	w.enqueue(t, "acme/web:pin-images")
	w.settle(t)
	branch := botpr.BranchName(mustKey(t, "acme/web:pin-images:deploy/app.yaml"))
	w.prFor(t, branch)

	t.Run("50 MB file under a mapped path", func(t *testing.T) {
		big := deployment(reg.ref("acme/app", "1.0")) + strings.Repeat("# padding to 50 MB .........................................\n", 50<<20/60)
		sha := w.gh.Commit(w.repo, "main", map[string]string{"deploy/big.yaml": big}, nil, "alice", "A huge manifest")
		w.settle(t)
		run := completedRun(t, w, sha, "tend / pin-images")
		text := run.Output.Title + "\n" + run.Output.Summary + "\n" + run.Output.Text
		if !strings.Contains(text, "deploy/big.yaml") || !strings.Contains(text, "too large") {
			t.Errorf("check run does not say deploy/big.yaml is too large: %s %q", run.Conclusion, text)
		}
		if got := w.gh.Branches(w.repo); strings.Contains(strings.Join(got, " "), botpr.BranchName(mustKey(t, "acme/web:pin-images:deploy/big.yaml"))) {
			t.Errorf("a branch was opened for the huge file: %v", got)
		}
	})

	t.Run("5 MB config", func(t *testing.T) {
		huge := cfg + "# " + strings.Repeat("x", 5<<20) + "\n"
		sha := w.gh.Commit(w.repo, "main", map[string]string{".github/tend.yaml": huge}, nil, "alice", "A huge config")
		w.settle(t)
		run := completedRun(t, w, sha, "tend / config")
		if run.Conclusion != "failure" || !strings.Contains(run.Output.Title+run.Output.Summary+run.Output.Text, ".github/tend.yaml") {
			t.Errorf("config check run %s %+v, want a failure naming the file", run.Conclusion, run.Output)
		}
		// Restore the config for the cases below.
		w.gh.Commit(w.repo, "main", map[string]string{".github/tend.yaml": cfg}, nil, "alice", "Fix the config")
		w.settle(t)
	})

	t.Run("push of 10,000 files", func(t *testing.T) {
		files := map[string]string{"deploy/app.yaml": deployment(reg.ref("acme/app", "2.0"))}
		for i := 0; i < 10_000; i++ {
			files[fmt.Sprintf("data/f%05d.txt", i)] = fmt.Sprintf("%d\n", i)
		}
		w.gh.Commit(w.repo, "main", files, nil, "alice", "Ten thousand files")
		w.settle(t)
		pr := w.prFor(t, branch)
		if got, _ := w.gh.File(w.repo, pr.HeadSHA, "deploy/app.yaml"); !strings.Contains(got, "acme/app:2.0@") {
			t.Errorf("the PR was not updated after the big push: %q", got)
		}
	})

	t.Run("10 MB webhook", func(t *testing.T) {
		resp := deliverPadded(t, w, "push", "", 10<<20)
		if resp.Status >= 500 || resp.Status == 0 {
			t.Errorf("10 MB push: status %d %s", resp.Status, resp.Body)
		}
	})

	t.Run("1 MB release note and issue body", func(t *testing.T) {
		for _, event := range []string{"release", "issues"} {
			action := "published"
			if event == "issues" {
				action = "opened"
			}
			if resp := deliverPadded(t, w, event, action, 1<<20); resp.Status >= 400 {
				t.Errorf("1 MB %s body: status %d %s", event, resp.Status, resp.Body)
			}
		}
		w.settle(t)
	})

	if !w.tend.Alive() {
		t.Fatal("tend died")
	}
	if resp, err := w.tend.Client().Get(w.tend.URL + "/readyz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz after the oversized inputs: %v %v", resp, err)
	}
	_, peak, err := w.tend.Memory()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("tend peak RSS over the oversized inputs: %d MB", peak>>20)
	if peak > maxOversizePeakRSS {
		t.Errorf("peak RSS %d MB, want under %d MB", peak>>20, maxOversizePeakRSS>>20)
	}
}

// completedRun returns the completed check run of that name on sha.
func completedRun(t *testing.T, w *liveWorld, sha, name string) (run fakegithub.CheckRun) {
	t.Helper()
	for _, c := range w.checkRunsOn(sha) {
		if c.Name == name && c.Status == "completed" {
			run = c
		}
	}
	if run.Name == "" {
		t.Fatalf("no completed %q check run on %s: %+v", name, sha, w.checkRunsOn(sha))
	}
	return run
}

// deliverPadded signs and posts an example payload of event and action,
// aimed at the world's repository, with its body (the release note, the
// issue body, or the head commit's message) padded to size bytes.
func deliverPadded(t *testing.T, w *liveWorld, event, action string, size int) e2e.Response {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(example(t, event, action, nil), &m); err != nil {
		t.Fatal(err)
	}
	pad := strings.Repeat("long text ", size/10)
	owner, name, _ := strings.Cut(w.repo, "/")
	if repo, ok := m["repository"].(map[string]any); ok {
		repo["full_name"], repo["name"] = w.repo, name
		if o, ok := repo["owner"].(map[string]any); ok {
			o["login"] = owner
		}
	}
	m["installation"] = map[string]any{"id": 7}
	switch event {
	case "release":
		m["release"].(map[string]any)["body"] = pad
	case "issues":
		m["issue"].(map[string]any)["body"] = pad
	case "push":
		m["head_commit"].(map[string]any)["message"] = pad
	}
	body, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := w.tend.Deliver(context.Background(), event, e2e.NewDeliveryID(), body)
	if err != nil {
		t.Fatalf("deliver %d-byte %s: %v", len(body), event, err)
	}
	return resp
}
