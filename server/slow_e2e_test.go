package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/e2e"
	"github.com/tend-app/tend/internal/fakegithub"
	"github.com/tend-app/tend/internal/testwait"
)

// slowAnswer is one kind of request the fake GitHub answers too late.
type slowAnswer struct {
	method, path string
	times        int
	hold         fakegithub.Hold
}

// GitHub answering slower than tend's client waits (TEND_GITHUB_TIMEOUT):
// reads whose answers come late, and writes that take effect although tend
// gave up on them — at once (the answer is held) or only after tend gave up
// and retried (the request is held before it is served): trees, commits,
// branches, PRs and check runs. Two repositories with the same files run
// side by side: acme/slow gets the slow answers, acme/calm none, so the
// difference is what the timeouts cost. Every key converges with exactly
// one PR, no tend/* branch is left without its PR, nothing is
// dead-lettered.
func TestSlowGitHubConverges(t *testing.T) {
	const timeout = time.Second
	const late = timeout + timeout/2
	reg := newRegistry(t)
	ref := reg.ref("acme/app", "1.0")
	digest := reg.push(t, "acme/app", "1.0", false)
	files := map[string]string{".github/tend.yaml": imagesConfig}
	var paths []string
	for i := range 4 {
		p := fmt.Sprintf("deploy/app%d.yaml", i)
		files[p] = deployment(ref)
		paths = append(paths, p)
	}
	want := map[string][]string{"acme/slow": paths, "acme/calm": paths}
	slow := []slowAnswer{
		{"GET", "/repos/acme/slow/contents/deploy/**", 2, fakegithub.HoldAnswer},
		{"GET", "/repos/acme/slow/pulls", 1, fakegithub.HoldAnswer},
		{"POST", "/repos/acme/slow/git/trees", 1, fakegithub.HoldAnswer},
		{"POST", "/repos/acme/slow/git/commits", 1, fakegithub.HoldBefore},
		{"POST", "/repos/acme/slow/git/refs", 1, fakegithub.HoldAnswer},
		{"POST", "/repos/acme/slow/git/refs", 1, fakegithub.HoldBefore},
		{"POST", "/repos/acme/slow/pulls", 1, fakegithub.HoldAnswer},
		{"POST", "/repos/acme/slow/pulls", 1, fakegithub.HoldBefore},
		{"POST", "/repos/acme/slow/check-runs", 1, fakegithub.HoldAnswer},
	}
	injected := 0
	w := newWorld(t, reg, worldOptions{repo: "acme/slow", alsoRepos: []string{"acme/calm"}, files: files,
		env: map[string]string{"TEND_GITHUB_TIMEOUT": timeout.String(), "TEND_RETRY_BASE": "300ms", "TEND_RESYNC_TICK": "500ms", "TEND_WRITE_LIMITS": "off"}})
	for _, s := range slow {
		w.gh.Delay(s.method, s.path, s.times, late, s.hold)
		injected += s.times
	}
	began := time.Now()
	pinned := ref + "@" + digest
	testwait.For(t, 2*time.Minute, func() bool { return convergedKeys(w.gh, want, pinned) == 2*len(paths) }, "every key of both repositories to converge")
	converged := time.Since(began)
	w.settle(t)

	for repo := range want {
		for _, p := range paths {
			branch := botpr.BranchName(mustKey(t, repo+":pin-images:"+p))
			if n := len(prsOn(w.gh.PullRequests(repo), branch)); n != 1 {
				t.Errorf("%s %s: %d PRs (open or closed), want 1", repo, p, n)
			}
		}
	}
	dups, orphans := checkOnePRPerBranch(t, w.gh, want)
	dead, _, _ := e2e.Run(map[string]string{"TEND_DATA_DIR": w.tend.DataDir}, "dlq", "list")
	if !strings.Contains(dead, "no dead letters") {
		t.Errorf("dead letters:\n%s", dead)
	}

	held := map[string]int{}
	requests := map[string]int{}
	for _, r := range w.gh.Requests() {
		for repo := range want {
			if strings.HasPrefix(r.Path, "/repos/"+repo+"/") {
				requests[repo]++
				if r.Held > 0 {
					held[repo]++
				}
			}
		}
	}
	if held["acme/slow"] != injected || held["acme/calm"] != 0 {
		t.Errorf("slow answers: %d in acme/slow (want %d: was each exercised?), %d in acme/calm (want 0)", held["acme/slow"], injected, held["acme/calm"])
	}
	runs := runsByRepo(w.logs.String())
	t.Logf("%d slow answers (%s late, client timeout %s); all %d keys converged in %s; %d duplicate PRs, %d orphaned branches, 0 dead letters",
		injected, late, timeout, 2*len(paths), converged.Round(100*time.Millisecond), dups, orphans)
	for _, repo := range []string{"acme/calm", "acme/slow"} {
		t.Logf("%s: %d runs completed (%d of them path runs), %d failed and retried; %d requests to the repository", repo, runs[repo].ok, runs[repo].paths, runs[repo].failed, requests[repo])
	}
	t.Logf("the slow answers cost %d failed runs and %d requests", runs["acme/slow"].failed-runs["acme/calm"].failed, requests["acme/slow"]-requests["acme/calm"])
	if runs["acme/slow"].failed == 0 {
		t.Error("no run of acme/slow failed: the slow answers did not outlast the client")
	}
}

type runCounts struct{ ok, paths, failed int }

// runsByRepo counts the runs (of any kind) that completed and that failed
// (to be retried) in tend's JSON log, by repository.
func runsByRepo(log string) map[string]runCounts {
	out := map[string]runCounts{}
	for _, line := range strings.Split(log, "\n") {
		var e struct{ Message, Kind, Repo string }
		if json.Unmarshal([]byte(line), &e) != nil || e.Repo == "" {
			continue
		}
		c := out[e.Repo]
		switch {
		case e.Message == "reconciled":
			c.ok++
			if e.Kind == "path" {
				c.paths++
			}
		case strings.HasSuffix(e.Message, "will retry"):
			c.failed++
		}
		out[e.Repo] = c
	}
	return out
}
