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
// (the request is held before it is served). Two repositories with the
// same files run side by side: acme/slow gets the slow answers, acme/calm
// none, so the difference is what the timeouts cost.
//
// First every key opens its PR (slow trees, commits, branch creations, PR
// creations, check runs); then the image moves and every PR is regenerated
// (slow branch updates and PR edits). Each time every key converges with
// exactly one PR, no tend/* branch is left without its PR, nothing is
// dead-lettered; and tend never mistakes its own commit, landed behind its
// back, for people's.
func TestSlowGitHubConverges(t *testing.T) {
	const timeout = time.Second
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
	w := newWorld(t, reg, worldOptions{repo: "acme/slow", alsoRepos: []string{"acme/calm"}, files: files,
		env: map[string]string{"TEND_GITHUB_TIMEOUT": timeout.String(), "TEND_RETRY_BASE": "300ms", "TEND_RESYNC_TICK": "500ms", "TEND_WRITE_LIMITS": "off"}})
	p := slowPhase{w: w, late: timeout + timeout/2, want: map[string][]string{"acme/slow": paths, "acme/calm": paths}}

	p.run(t, "open", ref+"@"+digest, nil, []slowAnswer{
		{"GET", "/repos/acme/slow/contents/deploy/**", 2, fakegithub.HoldAnswer},
		{"GET", "/repos/acme/slow/pulls", 1, fakegithub.HoldAnswer},
		{"POST", "/repos/acme/slow/git/trees", 1, fakegithub.HoldAnswer},
		{"POST", "/repos/acme/slow/git/commits", 1, fakegithub.HoldBefore},
		{"POST", "/repos/acme/slow/git/refs", 1, fakegithub.HoldAnswer},
		{"POST", "/repos/acme/slow/git/refs", 1, fakegithub.HoldBefore},
		{"POST", "/repos/acme/slow/pulls", 1, fakegithub.HoldAnswer},
		{"POST", "/repos/acme/slow/pulls", 1, fakegithub.HoldBefore},
		{"POST", "/repos/acme/slow/check-runs", 1, fakegithub.HoldAnswer},
	})

	digest = reg.push(t, "acme/app", "1.0", false)
	p.run(t, "update", ref+"@"+digest, func() {
		w.enqueue(t, "acme/slow:pin-images")
		w.enqueue(t, "acme/calm:pin-images")
	}, []slowAnswer{
		{"PATCH", "/repos/acme/slow/git/refs/**", 2, fakegithub.HoldAnswer},
		{"PATCH", "/repos/acme/slow/git/refs/**", 1, fakegithub.HoldBefore},
		{"PATCH", "/repos/acme/slow/pulls/*", 1, fakegithub.HoldAnswer},
	})

	// Once more with nothing to change: every PR is still tend's.
	w.enqueue(t, "acme/slow:pin-images")
	w.settle(t)
	if n := strings.Count(w.logs.String(), `"outcome":"human-edits"`); n != 0 {
		t.Errorf("%d runs took tend's own commits for people's", n)
	}
	adopted := strings.Count(w.logs.String(), "tend's own unrecorded commit")
	t.Logf("update: %d PR heads that tend moved without seeing the answer were recognised as tend's and adopted", adopted)
	if adopted == 0 {
		t.Error("no branch update landed behind tend's back: the update phase tested nothing")
	}
	for repo := range p.want {
		for _, pr := range w.gh.PullRequests(repo) {
			for _, c := range w.gh.Comments(repo, pr.Number) {
				if strings.Contains(c.Body, "Someone other than tend pushed") {
					t.Errorf("%s#%d: tend says people pushed: %q", repo, pr.Number, c.Body)
				}
			}
		}
	}
}

// slowPhase drives one phase of TestSlowGitHubConverges and reports its
// figures.
type slowPhase struct {
	w    *liveWorld
	late time.Duration
	want map[string][]string
}

// run injects slow, calls start (if any), waits until every key's PR
// holds pinned, and checks and logs the phase.
func (p slowPhase) run(t *testing.T, name, pinned string, start func(), slow []slowAnswer) {
	t.Helper()
	w := p.w
	logFrom, reqFrom := len(w.logs.String()), len(w.gh.Requests())
	injected := 0
	for _, s := range slow {
		w.gh.Delay(s.method, s.path, s.times, p.late, s.hold)
		injected += s.times
	}
	began := time.Now()
	if start != nil {
		start()
	}
	keys := countKeys(p.want)
	testwait.For(t, 2*time.Minute, func() bool { return convergedKeys(w.gh, p.want, pinned) == keys }, "%s: every key of both repositories to converge", name)
	converged := time.Since(began)
	w.settle(t)

	for repo, paths := range p.want {
		for _, path := range paths {
			branch := botpr.BranchName(mustKey(t, repo+":pin-images:"+path))
			if n := len(prsOn(w.gh.PullRequests(repo), branch)); n != 1 {
				t.Errorf("%s: %s %s: %d PRs (open or closed), want 1", name, repo, path, n)
			}
		}
	}
	dups, orphans := checkOnePRPerBranch(t, w.gh, p.want)
	dead, _, _ := e2e.Run(map[string]string{"TEND_DATA_DIR": w.tend.DataDir}, "dlq", "list")
	if !strings.Contains(dead, "no dead letters") {
		t.Errorf("%s: dead letters:\n%s", name, dead)
	}

	held, requests := map[string]int{}, map[string]int{}
	for _, r := range w.gh.Requests()[reqFrom:] {
		for repo := range p.want {
			if strings.HasPrefix(r.Path, "/repos/"+repo+"/") {
				requests[repo]++
				if r.Held > 0 {
					held[repo]++
				}
			}
		}
	}
	if held["acme/slow"] != injected || held["acme/calm"] != 0 {
		t.Errorf("%s: slow answers: %d in acme/slow (want %d: was each exercised?), %d in acme/calm (want 0)", name, held["acme/slow"], injected, held["acme/calm"])
	}
	runs := runsByRepo(w.logs.String()[logFrom:])
	t.Logf("%s: %d slow answers (%s late, client timeout %s); all %d keys converged in %s; %d duplicate PRs, %d orphaned branches, 0 dead letters",
		name, injected, p.late, w.env["TEND_GITHUB_TIMEOUT"], keys, converged.Round(100*time.Millisecond), dups, orphans)
	for _, repo := range []string{"acme/calm", "acme/slow"} {
		t.Logf("%s: %s: %d runs completed (%d of them path runs), %d failed and retried; %d requests to the repository", name, repo, runs[repo].ok, runs[repo].paths, runs[repo].failed, requests[repo])
	}
	t.Logf("%s: the slow answers cost %d failed runs and %d requests", name, runs["acme/slow"].failed-runs["acme/calm"].failed, requests["acme/slow"]-requests["acme/calm"])
	if runs["acme/slow"].failed == 0 {
		t.Errorf("%s: no run of acme/slow failed: the slow answers did not outlast the client", name)
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
