package main

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tend-app/tend/internal/testwait"

	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/e2e"
	"github.com/tend-app/tend/internal/fakegithub"
)

// githubFault is one failure the fake GitHub injects, and the window (if
// any) in which GitHub asked clients to stop.
type githubFault struct {
	name, method, pattern string
	times, status         int
	headers               map[string]string
	window                time.Duration
}

// GitHub failing in every way it does, all at once, while five keys open
// their PRs: bursts of 502 and 503, secondary limits (403 and 429 with
// Retry-After), the primary limit spent (403, x-ratelimit-remaining: 0 until
// a reset), and a revoked installation token (401). Every key converges to
// exactly one PR, nothing is dead-lettered, and no request of the
// installation reaches GitHub inside a window it asked for.
func TestGitHubFaultsConvergeWithoutHammering(t *testing.T) {
	reg := newRegistry(t)
	ref := reg.ref("acme/app", "1.0")
	digest := reg.push(t, "acme/app", "1.0", false)
	files := map[string]string{".github/tend.yaml": imagesConfig}
	const paths = 5
	for i := range paths {
		files[fmt.Sprintf("deploy/app%d.yaml", i)] = deployment(ref)
	}
	w := newWorld(t, reg, worldOptions{repo: "acme/web", files: files, env: map[string]string{"TEND_RETRY_BASE": "300ms", "TEND_RESYNC_TICK": "500ms"}})
	// The reset lies far enough ahead that the check run hits it before.
	reset := strconv.FormatInt(time.Now().Add(15*time.Second).Unix(), 10)
	faults := []githubFault{
		{name: "502 burst", method: "POST", pattern: "/repos/{owner}/{repo}/git/trees", times: 3, status: 502},
		{name: "503 burst", method: "POST", pattern: "/repos/{owner}/{repo}/git/commits", times: 3, status: 503},
		{name: "secondary 403", method: "GET", pattern: "/repos/{owner}/{repo}/pulls", times: 1, status: 403, headers: map[string]string{"Retry-After": "2"}, window: 2 * time.Second},
		{name: "secondary 429", method: "POST", pattern: "/repos/{owner}/{repo}/pulls", times: 1, status: 429, headers: map[string]string{"Retry-After": "2"}, window: 2 * time.Second},
		{name: "primary spent", method: "POST", pattern: "/repos/{owner}/{repo}/check-runs", times: 1, status: 403, headers: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}, window: time.Second},
		{name: "revoked token", method: "POST", pattern: "/repos/{owner}/{repo}/git/refs", times: 2, status: 401},
	}
	for _, f := range faults {
		w.gh.Fail(f.method, f.pattern, f.times, f.status, f.headers)
	}
	// Discovery finds the repository; its rule's first resync reaches the
	// five paths.
	testwait.For(t, 90*time.Second, func() bool { return len(w.openPRs()) == paths }, "five PRs despite the faults")
	w.settle(t)

	for i := range paths {
		path := fmt.Sprintf("deploy/app%d.yaml", i)
		branch := botpr.BranchName(mustKey(t, "acme/web:pin-images:"+path))
		if n := len(prsOn(w.gh.PullRequests("acme/web"), branch)); n != 1 {
			t.Errorf("%s: %d PRs, want 1", path, n)
		}
		if got, _ := w.gh.File("acme/web", branch, path); got != deployment(ref+"@"+digest) {
			t.Errorf("%s: PR content %q", path, got)
		}
	}
	dead, _, _ := e2e.Run(map[string]string{"TEND_DATA_DIR": w.tend.DataDir}, "dlq", "list")
	if !strings.Contains(dead, "no dead letters") {
		t.Errorf("dead letters:\n%s", dead)
	}
	reqs := w.gh.Requests()
	for _, f := range faults {
		answered := 0
		for _, r := range reqs {
			if r.Status == f.status && r.Method == f.method && r.Operation != "" && matchesFault(r, f) {
				answered++
				if f.window == 0 {
					continue
				}
				// The window starts when the answer left; requests already
				// on their way then are not counted against tend.
				from := r.Time.Add(r.Duration)
				until := from.Add(f.window)
				if f.headers["X-RateLimit-Reset"] != "" {
					sec, _ := strconv.ParseInt(f.headers["X-RateLimit-Reset"], 10, 64)
					until = time.Unix(sec, 0)
				}
				if until.Sub(from) < 500*time.Millisecond {
					t.Errorf("%s: the window after it is only %s; the test measures nothing", f.name, until.Sub(from))
				}
				// Requests another run sent before tend read this answer
				// arrive just after it: inFlight allows for them.
				const inFlight = 100 * time.Millisecond
				raw := requestsBetween(reqs, 7, from, until)
				during := requestsBetween(reqs, 7, from.Add(inFlight), until)
				t.Logf("%s: %d requests of the installation in the %s window after it (%d counting those that arrived in its first %s)", f.name, during, until.Sub(from).Round(100*time.Millisecond), raw, inFlight)
				if during != 0 {
					t.Errorf("%s: %d requests inside the window GitHub asked for, want 0", f.name, during)
				}
			}
		}
		if answered != f.times {
			t.Errorf("%s: the fake answered it %d times, want %d (was it exercised?)", f.name, answered, f.times)
		}
	}
}

func prsOn(prs []fakegithub.PullRequest, branch string) []fakegithub.PullRequest {
	var out []fakegithub.PullRequest
	for _, pr := range prs {
		if pr.HeadRef == branch {
			out = append(out, pr)
		}
	}
	return out
}

// matchesFault reports whether a logged request is one a fault answered.
func matchesFault(r fakegithub.RequestRecord, f githubFault) bool {
	ops := map[string]string{
		"/repos/{owner}/{repo}/git/trees":   "git/create-tree",
		"/repos/{owner}/{repo}/git/commits": "git/create-commit",
		"/repos/{owner}/{repo}/pulls":       map[string]string{"GET": "pulls/list", "POST": "pulls/create"}[f.method],
		"/repos/{owner}/{repo}/check-runs":  "checks/create",
		"/repos/{owner}/{repo}/git/refs":    "git/create-ref",
	}
	return ops[f.pattern] == r.Operation
}

// requestsBetween counts the installation's requests that arrived in
// (from, until).
func requestsBetween(reqs []fakegithub.RequestRecord, installationID int64, from, until time.Time) int {
	n := 0
	for _, r := range reqs {
		if r.InstallationID == installationID && r.Time.After(from) && r.Time.Before(until) {
			n++
		}
	}
	return n
}
