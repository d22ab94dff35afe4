package main

import (
	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/testwait"

	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tend-app/tend/internal/e2e"
	"github.com/tend-app/tend/internal/fakegithub"
)

// Commits a person pushes to a bot branch are never overwritten: tend
// comments once and leaves the branch alone, whatever happens after.
func TestHumanCommitOnBotBranch(t *testing.T) {
	reg := newRegistry(t)
	reg.push(t, "acme/app", "1.0", false)
	appRef := reg.ref("acme/app", "1.0")
	w := newWorld(t, reg, worldOptions{repo: "acme/web", webhooks: true, files: map[string]string{
		".github/tend.yaml": imagesConfig, "deploy/app.yaml": deployment(appRef),
	}})
	w.enqueue(t, "acme/web:pin-images")
	w.settle(t)
	branch := botpr.BranchName(mustKey(t, "acme/web:pin-images:deploy/app.yaml"))
	pr := w.prFor(t, branch)

	human := w.gh.Commit("acme/web", branch, map[string]string{"deploy/app.yaml": deployment(appRef) + "# tweaked by hand\n"}, nil, "bob", "Tweak")
	w.settle(t)
	reg.push(t, "acme/app", "1.0", false) // the tag moves: tend would want to update the PR
	w.enqueue(t, "acme/web:pin-images")
	w.settle(t)
	w.enqueue(t, "acme/web:pin-images:deploy/app.yaml")
	w.settle(t)

	if head, _ := w.gh.Branch("acme/web", branch); head != human {
		t.Fatalf("branch head %s, want the human commit %s: tend force-pushed over it", head, human)
	}
	var notes []string
	for _, c := range w.gh.Comments("acme/web", pr.Number) {
		if c.User == w.gh.BotLogin() {
			notes = append(notes, c.Body)
		}
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "stopped updating") || !strings.Contains(notes[0], "/reconcile recreate") {
		t.Errorf("bot comments = %q; want exactly one saying tend stopped and how to hand it back", notes)
	}
	if got := w.prFor(t, branch); got.State != "open" {
		t.Errorf("the PR with human commits was closed")
	}
}

// At most N open tend PRs per repository; keys over the limit wait and are
// woken when a slot frees, not dropped.
func TestOpenPRLimit(t *testing.T) {
	reg := newRegistry(t)
	files := map[string]string{".github/tend.yaml": "version: 1\npull_requests: {limit: 2}\nrules:\n  - {name: pin, reconciler: images, paths: [\"deploy/*.yaml\"]}\n"}
	for i := 0; i < 4; i++ {
		repo := fmt.Sprintf("acme/app%d", i)
		reg.push(t, repo, "1", false)
		files[fmt.Sprintf("deploy/app%d.yaml", i)] = deployment(reg.ref(repo, "1"))
	}
	w := newWorld(t, reg, worldOptions{repo: "acme/web", webhooks: true, files: files})
	w.enqueue(t, "acme/web:pin")
	w.settle(t)
	open := w.openPRs()
	if len(open) != 2 {
		t.Fatalf("%d open PRs, want the limit (2)", len(open))
	}
	// More events do not break the limit.
	w.enqueue(t, "acme/web:pin")
	w.settle(t)
	if n := len(w.openPRs()); n != 2 {
		t.Fatalf("%d open PRs after a resync, want 2", n)
	}
	// Merging one frees a slot: a waiting key gets it, without waiting for
	// its requeue time.
	if err := w.gh.MergePR("acme/web", open[0].Number, "alice"); err != nil {
		t.Fatal(err)
	}
	w.settle(t)
	testwait.For(t, 20*time.Second, func() bool { return len(w.openPRs()) == 2 && len(w.gh.PullRequests("acme/web")) == 3 }, "a waiting key to open its PR")
	if err := w.gh.MergePR("acme/web", w.openPRs()[0].Number, "alice"); err != nil {
		t.Fatal(err)
	}
	w.settle(t)
	testwait.For(t, 20*time.Second, func() bool { return len(w.gh.PullRequests("acme/web")) == 4 }, "the last key to open its PR")
	if n := len(w.openPRs()); n != 2 {
		t.Errorf("%d open PRs at the end, want 2", n)
	}
}

// An invalid config is reported as a failing check run on the commit that
// introduced it, with the file, line and problem; nothing else runs until
// it is fixed.
func TestInvalidConfigReported(t *testing.T) {
	reg := newRegistry(t)
	reg.push(t, "acme/app", "1.0", false)
	w := newWorld(t, reg, worldOptions{repo: "acme/web", webhooks: true, files: map[string]string{"README.md": "hi\n"}})
	bad := "version: 1\nrules:\n  - name: pin-images\n    reconciler: images\n    paths: [\"deploy/*.yaml\"]\n    colour: blue\n"
	sha := w.gh.Commit("acme/web", "main", map[string]string{
		".github/tend.yaml": bad, "deploy/app.yaml": deployment(reg.ref("acme/app", "1.0")),
	}, nil, "alice", "Add tend")
	w.settle(t)
	runs := w.checkRunsOn(sha)
	if len(runs) != 1 || runs[0].Name != "tend / config" || runs[0].Conclusion != "failure" {
		t.Fatalf("check runs on the commit = %+v; want one failing tend / config", runs)
	}
	if !strings.Contains(runs[0].Output.Text, `.github/tend.yaml:6:5: rule "pin-images": unknown field "colour"`) {
		t.Errorf("the check run does not name file, line and problem:\n%s", runs[0].Output.Text)
	}
	if len(w.gh.PullRequests("acme/web")) != 0 {
		t.Errorf("tend opened PRs for a repository with an invalid config")
	}
	w.gh.Commit("acme/web", "main", map[string]string{"deploy/app.yaml": deployment(reg.ref("acme/app", "1.0")) + "# more\n"}, nil, "alice", "Edit")
	w.settle(t)
	if len(w.gh.PullRequests("acme/web")) != 0 {
		t.Errorf("a push ran a rule of an invalid config")
	}
	fixed := w.gh.Commit("acme/web", "main", map[string]string{".github/tend.yaml": imagesConfig}, nil, "alice", "Fix tend config")
	w.settle(t)
	if runs := w.checkRunsOn(fixed); len(runs) != 1 || runs[0].Conclusion != "success" {
		t.Errorf("check runs on the fix = %+v; want a passing tend / config", runs)
	}
	if n := len(w.openPRs()); n != 1 {
		t.Errorf("%d open PRs after the fix, want 1", n)
	}
}

// GitHub's limits and failures: a secondary rate limit (403 + Retry-After)
// and a 429 wait and retry; a 502 backs off and retries; short-lived
// installation tokens are refreshed. The PR lands all the same.
func TestRateLimitsAndFailures(t *testing.T) {
	reg := newRegistry(t)
	reg.push(t, "acme/app", "1.0", false)
	w := newWorld(t, reg, worldOptions{repo: "acme/web", webhooks: true,
		ghOpts: []fakegithub.Option{fakegithub.WithTokenTTL(20 * time.Second)},
		files:  map[string]string{".github/tend.yaml": imagesConfig, "deploy/app.yaml": deployment(reg.ref("acme/app", "1.0"))},
	})
	w.gh.Fail("GET", "/repos/{owner}/{repo}/branches/{branch}", 1, 403, map[string]string{"Retry-After": "1"})
	w.gh.Fail("GET", "/repos/{owner}/{repo}/pulls", 1, 429, map[string]string{"Retry-After": "1"})
	w.gh.Fail("POST", "/repos/{owner}/{repo}/git/trees", 1, 502, nil)
	w.enqueue(t, "acme/web:pin-images:deploy/app.yaml")
	testwait.For(t, 60*time.Second, func() bool { return len(w.openPRs()) == 1 }, "the PR despite the faults")
	w.settle(t)
	if n := len(w.gh.PullRequests("acme/web")); n != 1 {
		t.Errorf("%d PRs, want 1", n)
	}
	dead, _, _ := e2e.Run(map[string]string{"TEND_DATA_DIR": w.tend.DataDir}, "dlq", "list")
	if !strings.Contains(dead, "no dead letters") {
		t.Errorf("faults dead-lettered keys:\n%s", dead)
	}
	logs := w.logs.String()
	for _, want := range []string{"run must wait; requeued", "run failed; will retry"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q", want)
		}
	}
	for _, secret := range []string{webhookSecret, "BEGIN RSA PRIVATE KEY", "ghs_"} {
		if strings.Contains(logs, secret) {
			t.Errorf("a secret (%q) reached the logs", secret)
		}
	}
}

// A file deleted on the base branch resolves its open PR; a package
// published to a registry maps to the keys that reference it.
func TestDeletedFileAndPackageEvents(t *testing.T) {
	reg := newRegistry(t)
	reg.push(t, "acme/app", "1.0", false)
	appRef := reg.ref("acme/app", "1.0")
	w := newWorld(t, reg, worldOptions{repo: "acme/web", webhooks: true, files: map[string]string{
		".github/tend.yaml": imagesConfig, "deploy/app.yaml": deployment(appRef), "deploy/other.yaml": deployment(appRef),
	}})
	w.enqueue(t, "acme/web:pin-images")
	w.settle(t)
	if n := len(w.openPRs()); n != 2 {
		t.Fatalf("%d open PRs, want 2", n)
	}
	pkg := fmt.Sprintf(`{"action":"published","installation":{"id":7},"repository":{"full_name":"acme/web"},"sender":{"login":"ci","type":"Bot"},
"package":{"name":"app","namespace":"acme/app","package_type":"container","owner":{"login":"acme"},"package_version":{"package_url":"%s/acme/app:1.1"},"registry":{"type":"CONTAINER","url":"https://%s"}}}`, reg.host, reg.host)
	resp, err := w.tend.Deliver(context.Background(), "package", e2e.NewDeliveryID(), []byte(pkg))
	if err != nil || resp.Status != 200 {
		t.Fatalf("package event: %+v %v", resp, err)
	}
	if got := strings.Join(resp.Summary.Keys, ","); got != "acme/web:pin-images:deploy/app.yaml,acme/web:pin-images:deploy/other.yaml" {
		t.Errorf("package event keys = %s", got)
	}
	w.settle(t)

	w.gh.Commit("acme/web", "main", nil, []string{"deploy/other.yaml"}, "alice", "Remove other")
	w.settle(t)
	open := w.openPRs()
	if len(open) != 1 || !strings.HasSuffix(open[0].HeadRef, "deploy/app.yaml") {
		t.Fatalf("open PRs after deleting other.yaml = %+v", open)
	}
	closed := w.prFor(t, botpr.BranchName(mustKey(t, "acme/web:pin-images:deploy/other.yaml")))
	if closed.State != "closed" || closed.Merged {
		t.Errorf("the PR of the deleted file is %s (merged %v)", closed.State, closed.Merged)
	}
	if _, ok := w.gh.Branch("acme/web", closed.HeadRef); ok {
		t.Errorf("the branch of the resolved PR was not deleted")
	}
	var said bool
	for _, c := range w.gh.Comments("acme/web", closed.Number) {
		said = said || (c.User == w.gh.BotLogin() && strings.Contains(c.Body, "already has the desired state"))
	}
	if !said {
		t.Errorf("no comment on the resolved PR")
	}
}
