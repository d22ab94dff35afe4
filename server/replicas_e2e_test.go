package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/e2e"
	"github.com/tend-app/tend/internal/fakegithub"
	"github.com/tend-app/tend/internal/keys"
	"github.com/tend-app/tend/internal/queue"
	"github.com/tend-app/tend/internal/store"
	"github.com/tend-app/tend/internal/testdb"
	"github.com/tend-app/tend/internal/testwait"
)

// Settings of the replicas test: runs are cut off after jobTimeout, and a
// run whose process died is rescued after rescueAfter (River's rescuer looks
// every 30 s, on the elected leader; a new leader is elected within about
// 15 s when the old one dies).
const (
	replicaJobTimeout  = 8 * time.Second
	replicaRescueAfter = 9 * time.Second
	// rescueBound is when a dead replica's interrupted keys must have run
	// to the end on the others: the rescue threshold, one rescuer interval,
	// a leader election, River's scheduler (5 s) and the run itself.
	rescueBound = replicaRescueAfter + 30*time.Second + 15*time.Second + 5*time.Second + 10*time.Second
	// postgresDown is how long Postgres stays stopped.
	postgresDown = 20 * time.Second
)

// Three tend processes on 127.0.0.1 share one Postgres cluster this test
// starts for itself. A storm of signed push webhooks reaches them through a
// round-robin balancer; every file read takes a while (the fake GitHub
// delays it) and PR creations are held while one replica — the one with
// most runs in flight — is killed with SIGKILL. Then:
//
//   - no two runs of one key overlap, on one replica or across them (each
//     run's start and end come from the replicas' logs);
//   - every key converges to exactly one PR with the pinned content, and
//     nothing is dead-lettered;
//   - the dead replica's interrupted keys run to the end on the others
//     within the rescue time.
//
// Then Postgres is stopped for 20 s and started again on the same data and
// port: while it is down every replica answers signed webhooks with 503 (so
// GitHub can redeliver) and fails /readyz; after it is back every process
// recovers by itself — /readyz 200, webhooks 200, a new push converges to
// its PR.
func TestReplicasOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Postgres cluster and three tend processes, and stops Postgres for 20 s")
	}
	cluster := testdb.StartCluster(t)
	reg := newRegistry(t)
	ref := reg.ref("acme/app", "1.0")
	digest := reg.push(t, "acme/app", "1.0", false)
	gh := fakegithub.New(t)
	gh.AddInstallation(7, "acme")
	const repos, files = 6, 4
	for i := range repos {
		gh.AddRepoWithFiles(7, replicaRepo(i), "main", map[string]string{".github/tend.yaml": orgConfig(files + 1), "README.md": "hello\n"})
	}
	// Every run reads its file: each read takes a while.
	gh.Delay("GET", "/repos/*/*/contents/**", -1, 400*time.Millisecond, fakegithub.HoldBefore)

	rs := startReplicas(t, gh, cluster.URL, 3)
	lb := newRoundRobin(t, rs)
	gh.SetWebhooks(lb.URL()+"/api/github/hook", webhookSecret)

	began := time.Now()
	kill := rs.stormAndKill(t, gh, repos, files, ref)
	want := map[string][]string{}
	for i := range repos {
		for f := range files {
			want[replicaRepo(i)] = append(want[replicaRepo(i)], replicaPath(f))
		}
	}
	pinned := func(content string) string { return strings.ReplaceAll(content, ref, ref+"@"+digest) }
	testwait.For(t, 3*time.Minute, func() bool {
		return convergedTo(gh, want, func(string, string) string { return pinned(replicaContent(ref, 3)) }) == countKeys(want)
	}, "every key to converge after the kill")
	settleQueue(t, rs.queue(t), gh, 500*time.Millisecond, 90*time.Second)
	converged := time.Since(began)

	runs := rs.runs(t, kill)
	rescue := rescueTimes(t, runs, kill)
	overlaps := checkNoOverlap(t, runs)
	ranOn := map[string]bool{}
	for _, r := range runs {
		ranOn[r.replica] = true
	}
	if len(runs) < countKeys(want) || len(ranOn) < 2 {
		t.Errorf("%d runs on %d replicas in the logs: the run lines are missing", len(runs), len(ranOn))
	}
	prs := checkOnePRPerKey(t, gh, want)
	rs.checkNoDeadLetters(t)
	var slowest, fastest time.Duration
	for _, d := range rescue {
		slowest = max(slowest, d)
		if fastest == 0 || d < fastest {
			fastest = d
		}
	}
	if slowest > rescueBound {
		t.Errorf("the dead replica's keys finished elsewhere %v after the kill; the bound is %v", slowest, rescueBound)
	}
	t.Logf("storm: %d deliveries (%v by replica); killed %s with %d runs in flight; %d keys converged, %d PRs, %d runs in all, %d overlaps, in %v; the %d interrupted keys finished on the others %v to %v after the kill (bound %v): %s",
		lb.total(), lb.counts(), rs[kill.victim].name, len(kill.interrupted), countKeys(want), prs, len(runs), overlaps,
		converged.Round(time.Second), len(rescue), fastest.Round(100*time.Millisecond), slowest.Round(100*time.Millisecond), rescueBound, roundAll(rescue))

	// The dead replica comes back; then Postgres goes away for 20 s.
	rs.restart(t, kill.victim)
	out := rs.outage(t, gh, cluster)
	t.Logf("postgres down %v: %d webhooks answered 503 (of %d), /readyz failed %d times (of %d), slowest answer %v; after the restart /readyz 200 on every replica in %v, webhooks 200 in %v",
		out.down.Round(100*time.Millisecond), out.webhook503, out.webhooks, out.readyFailed, out.readyChecks, out.slowest.Round(time.Millisecond), out.ready.Round(time.Millisecond), out.accepting.Round(time.Millisecond))

	// A new push after the outage converges without any restart of tend.
	after := time.Now()
	gh.Commit(replicaRepo(0), "main", map[string]string{"deploy/after.yaml": replicaContent(ref, 1)}, nil, "alice", "Add after.yaml")
	want[replicaRepo(0)] = append(want[replicaRepo(0)], "deploy/after.yaml")
	testwait.For(t, 2*time.Minute, func() bool {
		return convergedTo(gh, want, func(_, path string) string {
			if path == "deploy/after.yaml" {
				return pinned(replicaContent(ref, 1))
			}
			return pinned(replicaContent(ref, 3))
		}) == countKeys(want)
	}, "the push after the outage to converge")
	t.Logf("the push after the outage converged %v after it, %v after Postgres returned", time.Since(after).Round(100*time.Millisecond), time.Since(out.upAt).Round(100*time.Millisecond))
	settleQueue(t, rs.queue(t), gh, 500*time.Millisecond, 90*time.Second)
	checkNoOverlap(t, rs.runs(t, kill))
	checkOnePRPerKey(t, gh, want)
	rs.checkNoDeadLetters(t)
}

func replicaRepo(i int) string { return fmt.Sprintf("acme/svc%02d", i) }

func replicaPath(f int) string { return fmt.Sprintf("deploy/k%02d.yaml", f) }

// replicaContent is a managed file at one of its revisions.
func replicaContent(ref string, revision int) string {
	return deployment(ref) + fmt.Sprintf("# revision %d\n", revision)
}

func roundAll(ds map[string]time.Duration) string {
	keys := make([]string, 0, len(ds))
	for k := range ds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %v", k, ds[k].Round(100*time.Millisecond))
	}
	return strings.Join(parts, ", ")
}

// replica is one tend process of the set, with its own log.
type replica struct {
	name   string
	tend   *e2e.Tend
	logs   *syncBuffer
	env    map[string]string
	killed bool
}

type replicaSet []*replica

func startReplicas(t *testing.T, gh *fakegithub.Server, dbURL string, n int) replicaSet {
	t.Helper()
	rs := make(replicaSet, n)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range rs {
		env := tendEnv(t, gh)
		maps.Copy(env, map[string]string{
			"DATABASE_URL":      dbURL,
			"TEND_LOG_LEVEL":    "debug", // the run started/finished lines
			"TEND_JOB_TIMEOUT":  replicaJobTimeout.String(),
			"TEND_RESCUE_AFTER": replicaRescueAfter.String(),
			"TEND_WRITE_LIMITS": "off", // pacing is TestResyncPacesWritesUnderSecondaryLimits's
		})
		rs[i] = &replica{name: fmt.Sprintf("replica-%d", i), logs: &syncBuffer{}, env: env}
		wg.Add(1)
		go func() { // together, as a deployment rolls out
			defer wg.Done()
			rs[i].tend, errs[i] = e2e.Start(e2e.Options{Env: env, Log: rs[i].logs})
		}()
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, r := range rs {
			if r.tend == nil {
				continue
			}
			if err := r.tend.Stop(); err != nil && !r.killed {
				t.Errorf("%s did not stop cleanly: %v", r.name, err)
			}
			(&world{gh: gh, tend: r.tend, logs: r.logs, secrets: secretsIn(r.env)}).checkNoSecrets(t)
			if t.Failed() || os.Getenv("TEND_TEST_LOG") != "" {
				t.Logf("%s output:\n%s", r.name, r.logs.String())
			}
		}
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("%s: %v\n%s", rs[i].name, err, rs[i].logs.String())
		}
	}
	return rs
}

// killed describes the kill: which replica, when, and the keys whose runs
// it had in flight.
type killed struct {
	victim      int
	at          time.Time
	interrupted []string
}

// stormAndKill pushes two revisions of every file, holds PR creations
// until some reach GitHub, kills the replica with the most runs in flight
// while they wait, lets GitHub serve them anyway, and pushes the third
// revision of every file to the survivors.
func (rs replicaSet) stormAndKill(t *testing.T, gh *fakegithub.Server, repos, files int, ref string) killed {
	t.Helper()
	gate := gh.Gate("POST", "/repos/*/*/pulls")
	defer gate.Open()
	push := func(revision int) {
		for f := range files {
			for i := range repos {
				gh.Commit(replicaRepo(i), "main", map[string]string{replicaPath(f): replicaContent(ref, revision)}, nil, "alice", fmt.Sprintf("revision %d", revision))
			}
		}
	}
	push(1)
	push(2)
	// The storm reaches all three replicas before one dies.
	if err := gh.WaitWebhooksDelivered(60 * time.Second); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gate.Arrived():
	case <-time.After(90 * time.Second):
		t.Fatal("no PR creation reached GitHub within 90s")
	}
	// A moment for other runs to reach the gate too.
	testwait.Until(2*time.Second, func() bool { return len(gate.Arrived()) >= 3 })
	k := killed{victim: -1}
	for i, r := range rs {
		if open := openRuns(r.logs.String()); k.victim < 0 || len(open) > len(k.interrupted) {
			k.victim, k.interrupted = i, open
		}
	}
	if len(k.interrupted) == 0 {
		t.Fatal("no replica had a run in flight at the kill")
	}
	rs[k.victim].tend.Kill()
	rs[k.victim].killed = true
	k.at = time.Now()
	gate.Open() // GitHub finishes what it was asked, though the replica is gone
	push(3)
	if err := gh.WaitWebhooksDelivered(60 * time.Second); err != nil {
		t.Fatal(err)
	}
	for _, d := range gh.Deliveries() {
		if d.Status != http.StatusOK {
			t.Errorf("delivery %s %s answered %d %s through the balancer", d.Event, d.ID, d.Status, d.Err)
		}
	}
	return k
}

// restart starts a killed replica again on its address.
func (rs replicaSet) restart(t *testing.T, i int) {
	t.Helper()
	env := maps.Clone(rs[i].env)
	env["TEND_ADDR"] = strings.TrimPrefix(rs[i].tend.URL, "http://")
	tend, err := e2e.Start(e2e.Options{Env: env, Log: rs[i].logs})
	if err != nil {
		t.Fatalf("restart %s: %v\n%s", rs[i].name, err, rs[i].logs.String())
	}
	rs[i].tend, rs[i].killed = tend, false
}

// queue opens the shared database from the test process.
func (rs replicaSet) queue(t *testing.T) *queue.Queue {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenPostgres(ctx, rs[0].env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	q, err := queue.New(ctx, st, nil, queue.Options{InsertOnly: true, Logger: zerolog.Nop()})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close(); st.Close() })
	return q
}

func (rs replicaSet) checkNoDeadLetters(t *testing.T) {
	t.Helper()
	out, code, err := e2e.Run(map[string]string{"DATABASE_URL": rs[0].env["DATABASE_URL"], "TEND_DATA_DIR": t.TempDir()}, "dlq", "list")
	if err != nil || code != 0 || !strings.Contains(out, "no dead letters") {
		t.Errorf("dead letters (exit %d, %v):\n%s", code, err, out)
	}
}

// convergedTo counts the keys whose PR is open on a branch holding the
// content want gives for the file.
func convergedTo(gh *fakegithub.Server, paths map[string][]string, want func(repo, path string) string) int {
	n := 0
	for repo, ps := range paths {
		open := map[string]bool{}
		for _, pr := range gh.PullRequests(repo) {
			open[pr.HeadRef] = open[pr.HeadRef] || pr.State == "open"
		}
		for _, p := range ps {
			k, err := keys.Parse(repo + ":pin-images:" + p)
			if err != nil {
				continue
			}
			branch := botpr.BranchName(k)
			if got, ok := gh.File(repo, branch, p); ok && got == want(repo, p) && open[branch] {
				n++
			}
		}
	}
	return n
}

// checkOnePRPerKey fails unless every key has exactly one PR (of any state)
// and returns the number of tend PRs.
func checkOnePRPerKey(t *testing.T, gh *fakegithub.Server, paths map[string][]string) int {
	t.Helper()
	total := 0
	for repo, ps := range paths {
		byBranch := map[string]int{}
		for _, pr := range gh.PullRequests(repo) {
			if strings.HasPrefix(pr.HeadRef, botpr.BranchPrefix) {
				byBranch[pr.HeadRef]++
				total++
			}
		}
		for _, p := range ps {
			branch := botpr.BranchName(mustKey(t, repo+":pin-images:"+p))
			if n := byBranch[branch]; n != 1 {
				t.Errorf("%s %s: %d PRs, want 1", repo, p, n)
			}
		}
	}
	return total
}

// keyRun is one run of a key on one replica, from its log.
type keyRun struct {
	key, replica string
	start, end   time.Time
	open         bool // cut off: no finish line
}

// logLine is what the run lines carry.
type logLine struct {
	Time    time.Time `json:"time"`
	Message string    `json:"message"`
	Key     string    `json:"key"`
}

// parseRuns reads a replica's runs from its log: a "run started" line
// opens a key's run, "run finished" closes it. A key started twice
// without finishing is reported: two runs at once on one replica. Runs
// left open when the process died (its log goes on with a new process,
// or ends) end at cut.
func parseRuns(t *testing.T, name, log string, cut time.Time) []keyRun {
	t.Helper()
	var out []keyRun
	open := map[string]keyRun{}
	cutAll := func() {
		for k, r := range open {
			r.end, r.open = cut, true
			out = append(out, r)
			delete(open, k)
		}
	}
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, `"run started"`) && !strings.Contains(line, `"run finished"`) && !strings.Contains(line, `"tend listening"`) {
			continue
		}
		var l logLine
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Errorf("%s: unreadable log line %q: %v", name, line, err)
			continue
		}
		switch l.Message {
		case "tend listening":
			cutAll() // a new process: the last one's unfinished runs ended at the cut
		case "run started":
			if prev, ok := open[l.Key]; ok {
				t.Errorf("%s ran %s twice at once (from %s)", name, l.Key, prev.start.Format(time.RFC3339Nano))
			}
			open[l.Key] = keyRun{key: l.Key, replica: name, start: l.Time}
		case "run finished":
			r, ok := open[l.Key]
			if !ok {
				t.Errorf("%s finished a run of %s it had not started", name, l.Key)
				continue
			}
			r.end = l.Time
			out = append(out, r)
			delete(open, l.Key)
		}
	}
	cutAll()
	return out
}

// openRuns lists the keys a replica's log shows running now.
func openRuns(log string) []string {
	open := map[string]bool{}
	for _, line := range strings.Split(log, "\n") {
		var l logLine
		if !strings.Contains(line, `"run `) || json.Unmarshal([]byte(line), &l) != nil {
			continue
		}
		switch l.Message {
		case "run started":
			open[l.Key] = true
		case "run finished":
			delete(open, l.Key)
		}
	}
	out := make([]string, 0, len(open))
	for k := range open {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// runs collects every replica's runs; the killed replica's unfinished runs
// end at the kill, a live replica's at this moment.
func (rs replicaSet) runs(t *testing.T, k killed) []keyRun {
	t.Helper()
	var all []keyRun
	for i, r := range rs {
		cut := time.Now()
		if i == k.victim {
			// Its log holds both lives; a run cut off by the kill ended then.
			cut = k.at
		}
		all = append(all, parseRuns(t, r.name, r.logs.String(), cut)...)
	}
	return all
}

// checkNoOverlap fails for every two runs of one key that overlap in time,
// and returns how many did.
func checkNoOverlap(t *testing.T, runs []keyRun) int {
	t.Helper()
	byKey := map[string][]keyRun{}
	for _, r := range runs {
		byKey[r.key] = append(byKey[r.key], r)
	}
	n := 0
	for key, rs := range byKey {
		sort.Slice(rs, func(i, j int) bool { return rs[i].start.Before(rs[j].start) })
		for i := 1; i < len(rs); i++ {
			if rs[i].start.Before(rs[i-1].end) {
				n++
				t.Errorf("%s: a run on %s from %s overlaps the run on %s until %s", key, rs[i].replica, rs[i].start.Format("15:04:05.000"),
					rs[i-1].replica, rs[i-1].end.Format("15:04:05.000"))
			}
		}
	}
	return n
}

// rescueTimes returns, for each key the dead replica was running, how long
// after the kill a run of it on another replica finished.
func rescueTimes(t *testing.T, runs []keyRun, k killed) map[string]time.Duration {
	t.Helper()
	out := map[string]time.Duration{}
	for _, key := range k.interrupted {
		found := false
		for _, r := range runs {
			if r.key == key && !r.open && r.start.After(k.at) {
				if d := r.end.Sub(k.at); !found || d < out[key] {
					out[key], found = d, true
				}
			}
		}
		if !found {
			t.Errorf("%s, interrupted by the kill, never ran again", key)
		}
	}
	return out
}

// roundRobin is the load balancer in front of the replicas: deliveries go
// to each in turn, and to the next one when a replica does not answer.
type roundRobin struct {
	srv    *httptest.Server
	urls   []string
	names  []string
	client *http.Client
	mu     sync.Mutex
	next   int
	byName map[string]int
}

func newRoundRobin(t *testing.T, rs replicaSet) *roundRobin {
	lb := &roundRobin{client: &http.Client{Timeout: 30 * time.Second}, byName: map[string]int{}}
	for _, r := range rs {
		lb.urls, lb.names = append(lb.urls, r.tend.URL), append(lb.names, r.name)
	}
	lb.srv = httptest.NewServer(http.HandlerFunc(lb.serve))
	t.Cleanup(lb.srv.Close)
	return lb
}

func (lb *roundRobin) URL() string { return lb.srv.URL }

func (lb *roundRobin) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	for range lb.urls {
		lb.mu.Lock()
		i := lb.next % len(lb.urls)
		lb.next++
		lb.mu.Unlock()
		req, err := http.NewRequestWithContext(r.Context(), r.Method, lb.urls[i]+r.URL.Path, bytes.NewReader(body))
		if err != nil {
			continue
		}
		req.Header = r.Header.Clone()
		resp, err := lb.client.Do(req)
		if err != nil {
			continue // not answering (killed): the next replica
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		lb.mu.Lock()
		lb.byName[lb.names[i]]++
		lb.mu.Unlock()
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(b)
		return
	}
	http.Error(w, "no replica answered", http.StatusBadGateway)
}

func (lb *roundRobin) counts() map[string]int {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	return maps.Clone(lb.byName)
}

func (lb *roundRobin) total() int {
	n := 0
	for _, c := range lb.counts() {
		n += c
	}
	return n
}

// outageResult is what the replicas did while Postgres was down and after.
type outageResult struct {
	down        time.Duration // how long Postgres was stopped
	upAt        time.Time     // when it answered again
	webhooks    int           // deliveries posted while it was down
	webhook503  int           // of them answered 503
	slowest     time.Duration // the slowest answer to one of them
	readyChecks int           // /readyz calls while it was down
	readyFailed int           // of them not 200
	ready       time.Duration // from its return to /readyz 200 on every replica
	accepting   time.Duration // from its return to a delivery answered 200 by every replica
}

// outage stops Postgres for postgresDown while each replica, about once a
// second, gets a signed push (a replay of one GitHub delivered, under a new
// delivery id) and a /readyz probe; then starts it again and waits until
// every replica is ready and takes deliveries in, without restarting any.
func (rs replicaSet) outage(t *testing.T, gh *fakegithub.Server, cluster *testdb.Cluster) outageResult {
	t.Helper()
	push := lastPush(t, gh)
	var out outageResult
	if err := cluster.Pause(); err != nil {
		t.Fatal(err)
	}
	downAt := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for time.Since(downAt) < postgresDown-time.Second {
		for _, r := range rs {
			out.readyChecks++
			if code := readyz(r); code != http.StatusOK {
				out.readyFailed++
			} else {
				t.Errorf("%s: /readyz answered 200 while Postgres was down", r.name)
			}
			start := time.Now()
			resp, err := r.tend.Deliver(context.Background(), "push", e2e.NewDeliveryID(), push)
			out.slowest = max(out.slowest, time.Since(start))
			out.webhooks++
			switch {
			case err != nil:
				t.Errorf("%s: a delivery while Postgres was down: %v", r.name, err)
			case resp.Status == http.StatusServiceUnavailable:
				out.webhook503++
			default:
				t.Errorf("%s: a delivery while Postgres was down answered %d %s; want 503 (GitHub can redeliver)", r.name, resp.Status, resp.Body)
			}
		}
		<-tick.C
	}
	time.Sleep(time.Until(downAt.Add(postgresDown))) // exactly the outage asked for
	out.down = time.Since(downAt)
	if err := cluster.Resume(); err != nil {
		t.Fatal(err)
	}
	out.upAt = time.Now()
	testwait.For(t, 60*time.Second, func() bool {
		for _, r := range rs {
			if readyz(r) != http.StatusOK {
				return false
			}
		}
		return true
	}, "/readyz 200 on every replica after Postgres returned")
	out.ready = time.Since(out.upAt)
	accepted := map[string]bool{}
	testwait.For(t, 60*time.Second, func() bool {
		for _, r := range rs {
			if !accepted[r.name] {
				resp, err := r.tend.Deliver(context.Background(), "push", e2e.NewDeliveryID(), push)
				accepted[r.name] = err == nil && resp.Status == http.StatusOK
			}
		}
		n := 0
		for _, ok := range accepted {
			if ok {
				n++
			}
		}
		return n == len(rs)
	}, "every replica to take a delivery in after Postgres returned")
	out.accepting = time.Since(out.upAt)
	for _, r := range rs {
		if !r.tend.Alive() {
			t.Errorf("%s exited during the outage", r.name)
		}
	}
	return out
}

func readyz(r *replica) int {
	resp, err := r.tend.Client().Get(r.tend.URL + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// lastPush is the body of the last push to a default branch that GitHub
// delivered (tend's own pushes to its branches name no key).
func lastPush(t *testing.T, gh *fakegithub.Server) []byte {
	t.Helper()
	ds := gh.Deliveries()
	for i := len(ds) - 1; i >= 0; i-- {
		var p struct {
			Ref string `json:"ref"`
		}
		if ds[i].Event == "push" && ds[i].Status == http.StatusOK && json.Unmarshal(ds[i].Body, &p) == nil && p.Ref == "refs/heads/main" {
			return ds[i].Body
		}
	}
	t.Fatal("no push to a default branch was delivered")
	return nil
}
