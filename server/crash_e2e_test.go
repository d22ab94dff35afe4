package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/e2e"
	"github.com/tend-app/tend/internal/fakegithub"
	"github.com/tend-app/tend/internal/keys"
	"github.com/tend-app/tend/internal/queue"
	"github.com/tend-app/tend/internal/testwait"
)

// kill -9 loop on one node: while pushes keep arriving for 10
// repositories, tend is killed while a PR creation is on its way to GitHub
// (the fake holds the request, then serves it after the kill, as GitHub
// would), and restarted on the same data directory. GitHub does not
// redeliver by itself: deliveries that failed while tend was down are
// redelivered after each restart, as an operator (or a redelivery job)
// would. At the end every key has converged, with exactly one PR per key,
// no tend/* branch without its PR, nothing dead-lettered and nothing stuck
// running. 3 kills in the normal suite; TEND_LONG=1 runs 20.
func TestKillNineLoop(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts tend several times")
	}
	kills := 3
	if os.Getenv("TEND_LONG") != "" {
		kills = 20
	}
	reg := newRegistry(t)
	ref := reg.ref("acme/app", "1.0")
	digest := reg.push(t, "acme/app", "1.0", false)
	gh := fakegithub.New(t)
	gh.AddInstallation(7, "acme")
	want := map[string][]string{} // repo -> managed files
	for i := range 10 {
		repo := fmt.Sprintf("acme/svc%02d", i)
		gh.AddRepoWithFiles(7, repo, "main", map[string]string{".github/tend.yaml": orgConfig(50), "deploy/app.yaml": deployment(ref)})
		want[repo] = []string{"deploy/app.yaml"}
	}
	addr, err := e2e.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	env := tendEnv(t, gh)
	// Write pacing is not under test here (TestResyncPacesWritesUnderSecondaryLimits
	// covers it); at GitHub's 80 a minute it would stretch the test by minutes.
	for k, v := range map[string]string{"TEND_ADDR": addr, "TEND_RESYNC_TICK": "500ms", "TEND_JOB_TIMEOUT": "5s", "TEND_RESCUE_AFTER": "6s", "TEND_WRITE_LIMITS": "off"} {
		env[k] = v
	}
	start := func() *e2e.Tend {
		tend, err := e2e.Start(e2e.Options{Env: env, Log: logs})
		if err != nil {
			t.Fatalf("%v\n%s", err, logs.String())
		}
		return tend
	}
	w := &liveWorld{world: &world{gh: gh, tend: start(), logs: logs, secrets: secretsIn(env)}, repo: "acme/svc00", reg: reg}
	t.Cleanup(func() {
		if w.q != nil {
			w.q.Close()
		}
		if err := w.tend.Stop(); err != nil {
			t.Errorf("tend did not stop cleanly: %v", err)
		}
		w.checkNoSecrets(t)
		if t.Failed() || os.Getenv("TEND_TEST_LOG") != "" {
			t.Logf("tend output:\n%s", logs.String())
		}
	})
	gh.SetWebhooks(w.tend.URL+"/api/github/hook", webhookSecret)

	// A job left running by one kill may still be running (not yet
	// rescued) at the next, so the interrupted jobs are counted once each.
	interrupted, atKills := map[int64]bool{}, 0
	began := time.Now()
	for i := range kills {
		// New work arrives: a file added in two repositories.
		gate := gh.Gate("POST", "/repos/*/*/pulls")
		for _, r := range []int{i % 10, (i + 5) % 10} {
			repo := fmt.Sprintf("acme/svc%02d", r)
			path := fmt.Sprintf("deploy/k%02d.yaml", i)
			gh.Commit(repo, "main", map[string]string{path: deployment(ref)}, nil, "alice", "Add "+path)
			want[repo] = append(want[repo], path)
		}
		select {
		case <-gate.Arrived():
		case <-time.After(60 * time.Second):
			gate.Open()
			t.Fatalf("kill %d: no PR creation reached GitHub within 60s", i+1)
		}
		w.tend.Kill()
		gate.Open() // GitHub finishes what it was asked, though tend is gone
		for _, j := range w.jobsIn(t, rivertype.JobStateRunning) {
			interrupted[j.ID] = true
			atKills++
		}
		if err := gh.WaitWebhooksDelivered(30 * time.Second); err != nil {
			t.Fatal(err)
		}
		w.tend = start()
		redeliverFailed(t, gh)
	}
	// Every key converges.
	testwait.For(t, 3*time.Minute, func() bool { return convergedKeys(gh, want, ref+"@"+digest) == countKeys(want) }, "every key to converge")
	w.settle(t)
	elapsed := time.Since(began)

	keysTotal := countKeys(want)
	if n := convergedKeys(gh, want, ref+"@"+digest); n != keysTotal {
		t.Errorf("%d of %d keys converged", n, keysTotal)
	}
	dups, orphans := checkOnePRPerBranch(t, gh, want)
	stuck := len(w.jobsIn(t, rivertype.JobStateRunning))
	if stuck != 0 {
		t.Errorf("%d jobs stuck running", stuck)
	}
	dead, _, _ := e2e.Run(map[string]string{"TEND_DATA_DIR": w.tend.DataDir}, "dlq", "list")
	if !strings.Contains(dead, "no dead letters") {
		t.Errorf("dead letters:\n%s", dead)
	}
	pathRuns := countRuns(logs.String())
	t.Logf("%d kills in %s: %d keys, %d converged, 0 lost, %d duplicate PRs, %d orphaned branches, %d stuck running; %d jobs were interrupted by the kills (each ran again after its rescue: the extra runs; %d job-kills counting a job once per kill it was running at); %d path runs completed in all",
		kills, elapsed.Round(time.Second), keysTotal, keysTotal, dups, orphans, stuck, len(interrupted), atKills, pathRuns)
}

// jobsIn lists the key jobs in the given states, read from tend's database.
func (w *liveWorld) jobsIn(t *testing.T, states ...rivertype.JobState) []queue.Job {
	t.Helper()
	jobs, err := w.queue(t).Jobs(context.Background(), 10000, states...)
	if err != nil {
		t.Fatal(err)
	}
	return jobs
}

// redeliverFailed redelivers every delivery whose attempts all failed, as
// GitHub's redelivery does when asked.
func redeliverFailed(t *testing.T, gh *fakegithub.Server) {
	t.Helper()
	ok := map[string]bool{}
	for _, d := range gh.Deliveries() {
		if d.Status >= 200 && d.Status < 300 {
			ok[d.ID] = true
		}
	}
	for _, d := range gh.Deliveries() {
		if !ok[d.ID] {
			ok[d.ID] = true // once
			if err := gh.Redeliver(d.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := gh.WaitWebhooksDelivered(30 * time.Second); err != nil {
		t.Fatal(err)
	}
}

func countKeys(want map[string][]string) int {
	n := 0
	for _, paths := range want {
		n += len(paths)
	}
	return n
}

// convergedKeys counts the keys whose PR is open on a branch that holds
// the pinned file.
func convergedKeys(gh *fakegithub.Server, want map[string][]string, pinned string) int {
	n := 0
	for repo, paths := range want {
		open := map[string]bool{}
		for _, pr := range gh.PullRequests(repo) {
			open[pr.HeadRef] = open[pr.HeadRef] || pr.State == "open"
		}
		for _, p := range paths {
			k, err := keys.Parse(repo + ":pin-images:" + p)
			if err != nil {
				continue
			}
			branch := botpr.BranchName(k)
			if got, ok := gh.File(repo, branch, p); ok && got == deployment(pinned) && open[branch] {
				n++
			}
		}
	}
	return n
}

// countRuns counts the completed runs of path keys in tend's log.
func countRuns(log string) int {
	n := 0
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, `"message":"reconciled"`) && strings.Contains(line, `"kind":"path"`) {
			n++
		}
	}
	return n
}

// checkOnePRPerBranch counts, in the repositories of want, bot branches with
// more than one open PR (the extra PRs) and tend/* branches without an open
// PR, and reports each as an error.
func checkOnePRPerBranch(t *testing.T, gh *fakegithub.Server, want map[string][]string) (dups, orphans int) {
	t.Helper()
	for repo := range want {
		open := map[string]int{}
		for _, pr := range gh.PullRequests(repo) {
			if pr.State == "open" {
				open[pr.HeadRef]++
			}
		}
		for branch, n := range open {
			if n > 1 {
				dups += n - 1
				t.Errorf("%s: %d open PRs for %s", repo, n, branch)
			}
		}
		for _, b := range gh.Branches(repo) {
			if strings.HasPrefix(b, botpr.BranchPrefix) && open[b] == 0 {
				orphans++
				t.Errorf("%s: branch %s has no open PR", repo, b)
			}
		}
	}
	return dups, orphans
}
