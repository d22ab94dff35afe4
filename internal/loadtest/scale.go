package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/riverqueue/river/rivertype"
	"github.com/rs/zerolog"

	"github.com/tend-app/tend/internal/e2e"
	"github.com/tend-app/tend/internal/fakegithub"
	"github.com/tend-app/tend/internal/keys"
	"github.com/tend-app/tend/internal/queue"
	"github.com/tend-app/tend/internal/store"
)

// scaleConfig shapes an organisation: Repos repositories of one
// installation, each with Paths files under deploy/ that the images rule
// maps.
type scaleConfig struct {
	Repos, Paths int
	Images       int // distinct images the files reference
	Workers      int // TEND_WORKERS of each replica
	Timeout      time.Duration
	Log          io.Writer // tend's output (default: discarded)
	// Postgres, when set, is the URL of a Postgres server: the run creates
	// a throwaway database on it (dropped at the end) and every replica
	// uses it through DATABASE_URL. Empty means SQLite (one replica).
	Postgres string
	Replicas int // tend processes sharing the database (Postgres only; default 1)
	// PaceMinute and PaceHour, when set, turn on GitHub's secondary limits
	// (80 content-creating requests a "minute", 500 an "hour") in the fake
	// and tend's write pacing with the same windows, scaled down so that a
	// paced first resync of thousands of PRs finishes in minutes.
	PaceMinute, PaceHour time.Duration
}

func (c scaleConfig) paced() bool { return c.PaceMinute > 0 && c.PaceHour > 0 }

// scalePhase is what one phase of the simulation cost.
type scalePhase struct {
	Name     string
	Wall     time.Duration
	Requests int            // every request tend made to GitHub
	Counted  int            // those that count against the rate limit (not 304)
	Writes   int            // POST, PATCH, PUT, DELETE
	Refused  int            // answered 403 or 429 (secondary limits when paced)
	PeakRSS  int64          // the largest replica's peak
	RSS      int64          // the largest replica's, when the phase ended
	ByOp     map[string]int // counted requests by GitHub operation
}

type scaleResult struct {
	cfg     scaleConfig
	phases  []scalePhase
	prs     int   // open tend PRs after the first resync
	dupes   int   // keys with more than one PR
	idleRSS int64 // after everything settled
}

const scaleRule = "pin-images"

func scaleRepo(i int) string { return fmt.Sprintf("acme/repo-%04d", i) }

func scalePath(i int) string { return fmt.Sprintf("deploy/app-%02d.yaml", i) }

// scaleWorld is the fake organisation: GitHub, a registry, and tend (one
// process, or several replicas sharing a Postgres database).
type scaleWorld struct {
	cfg   scaleConfig
	gh    *fakegithub.Server
	reg   *httptest.Server
	tends []*e2e.Tend
	q     *queue.Queue
	st    *store.Store
	db    *throwawayDB // Postgres only
}

// runScale simulates an organisation against the fake GitHub and a
// loopback registry with the real tend binary on SQLite: a first full
// resync (start-up discovery; every path gets a PR), two warm resyncs
// with nothing changed (every rule key enqueued again), and no-op
// reconciles of every path key.
func runScale(cfg scaleConfig) (*scaleResult, error) {
	w, err := startScaleWorld(cfg)
	if err != nil {
		return nil, err
	}
	defer w.close()
	ctx := context.Background()
	res := &scaleResult{cfg: cfg}

	first, err := w.phase("first full resync", func() error { return nil }, func() (bool, error) {
		prs, _ := w.countPRs()
		return prs >= cfg.Repos*cfg.Paths, nil
	})
	if err != nil {
		return nil, err
	}
	res.phases = append(res.phases, first)
	res.prs, res.dupes = w.countPRs()
	if res.prs != cfg.Repos*cfg.Paths || res.dupes != 0 {
		return res, fmt.Errorf("after the first resync: %d open PRs (want %d), %d keys with several", res.prs, cfg.Repos*cfg.Paths, res.dupes)
	}

	ruleKeys := make([]keys.Key, 0, cfg.Repos)
	pathKeys := make([]keys.Key, 0, cfg.Repos*cfg.Paths)
	for r := 0; r < cfg.Repos; r++ {
		s := scaleRepo(r) + ":" + scaleRule
		ruleKeys = append(ruleKeys, mustParse(s))
		for p := 0; p < cfg.Paths; p++ {
			pathKeys = append(pathKeys, mustParse(s+":"+scalePath(p)))
		}
	}
	for _, ph := range []struct {
		name string
		ks   []keys.Key
	}{
		// The first warm resync reads each repository's list of open PRs
		// again (it changed when the PRs opened), and that one answer
		// serves the path keys the resync enqueues; the second is the
		// steady state.
		{"warm resync 1 (nothing changed since the PRs opened)", ruleKeys},
		{"warm resync 2 (nothing changed)", ruleKeys},
		{"no-op reconcile of every path key", pathKeys},
	} {
		p, err := w.phase(ph.name, func() error { _, err := w.q.Enqueue(ctx, ph.ks...); return err }, w.idle)
		if err != nil {
			return nil, err
		}
		res.phases = append(res.phases, p)
	}
	if prs, dupes := w.countPRs(); prs != res.prs || dupes != 0 {
		return res, fmt.Errorf("after the warm resync: %d open PRs (want %d), %d keys with several", prs, res.prs, dupes)
	}
	res.idleRSS, _, err = w.memory()
	return res, err
}

func mustParse(s string) keys.Key {
	k, err := keys.Parse(s)
	if err != nil {
		panic(err)
	}
	return k
}

func startScaleWorld(cfg scaleConfig) (*scaleWorld, error) {
	w := &scaleWorld{cfg: cfg}
	if err := w.startFakes(); err != nil {
		w.close()
		return nil, err
	}
	ctx := context.Background()
	dbURL := ""
	if cfg.Postgres != "" {
		db, err := createThrowawayDB(ctx, cfg.Postgres)
		if err != nil {
			w.close()
			return nil, err
		}
		w.db, dbURL = db, db.url
	}
	for range max(cfg.Replicas, 1) {
		if err := w.startReplica(dbURL); err != nil {
			w.close()
			return nil, err
		}
	}
	var err error
	if dbURL != "" {
		w.st, err = store.OpenPostgres(ctx, dbURL)
	} else {
		w.st, err = store.OpenSQLite(ctx, w.tends[0].DataDir)
	}
	if err != nil {
		w.close()
		return nil, err
	}
	if w.q, err = queue.New(ctx, w.st, nil, queue.Options{InsertOnly: true, Logger: zerolog.Nop()}); err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

// startFakes starts the registry with its images and the fake GitHub with
// the organisation's repositories.
func (w *scaleWorld) startFakes() error {
	cfg := w.cfg
	w.reg = httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	host := strings.TrimPrefix(w.reg.URL, "http://")
	for i := 0; i < cfg.Images; i++ {
		if err := pushImage(fmt.Sprintf("%s/lib/app-%d:1.0", host, i)); err != nil {
			return err
		}
	}
	opts := []fakegithub.Option{fakegithub.WithRateLimit(0)}
	if cfg.paced() {
		opts = append(opts, fakegithub.WithSecondaryLimits(fakegithub.SecondaryLimits{
			PerMinute: fakegithub.GitHubSecondaryLimits.PerMinute, Minute: cfg.PaceMinute,
			PerHour: fakegithub.GitHubSecondaryLimits.PerHour, Hour: cfg.PaceHour,
		}))
	}
	gh, err := fakegithub.Start(opts...)
	if err != nil {
		return err
	}
	w.gh = gh
	gh.AddInstallation(1, "acme")
	for r := 0; r < cfg.Repos; r++ {
		files := map[string]string{".github/tend.yaml": "version: 1\npull_requests: {limit: 100}\nrules:\n  - {name: " + scaleRule + ", reconciler: images, paths: [\"deploy/*.yaml\"]}\n"}
		for p := 0; p < cfg.Paths; p++ {
			files[scalePath(p)] = fmt.Sprintf("image: %s/lib/app-%d:1.0\n", host, (r*cfg.Paths+p)%cfg.Images)
		}
		gh.AddRepoWithFiles(1, scaleRepo(r), "main", files)
	}
	return nil
}

// startReplica starts one tend process on its own data directory (the
// response cache), on SQLite there or on the database at dbURL.
func (w *scaleWorld) startReplica(dbURL string) error {
	dir, err := os.MkdirTemp("", "tend-scale")
	if err != nil {
		return err
	}
	env := map[string]string{
		"GITHUB_APP_INTEGRATION_ID": strconv.FormatInt(w.gh.AppID(), 10),
		"GITHUB_APP_PRIVATE_KEY":    string(w.gh.AppKeyPEM()),
		"GITHUB_APP_WEBHOOK_SECRET": secret,
		"GITHUB_V3_API_URL":         w.gh.URL(),
		"TEND_LOG_LEVEL":            "info",
		"TEND_SETTLE":               "0",
		"TEND_POLL_INTERVAL":        "50ms",
		"TEND_WORKERS":              strconv.Itoa(w.cfg.Workers),
		// The simulation measures tend's own cost per path. GitHub's write
		// pacing (80 a minute per installation) would stretch the first
		// resync of 61k writes to about 120 hours; RELIABILITY.md measures
		// the pacing on its own.
		"TEND_WRITE_LIMITS": "off",
		"TEND_WRITE_GAP":    "0s",
	}
	if w.cfg.paced() {
		env["TEND_WRITE_LIMITS"] = fmt.Sprintf("%d/%s,%d/%s", fakegithub.GitHubSecondaryLimits.PerMinute, w.cfg.PaceMinute,
			fakegithub.GitHubSecondaryLimits.PerHour, w.cfg.PaceHour)
		env["TEND_WRITE_GAP"] = "1ms"
	}
	if dbURL != "" {
		env["DATABASE_URL"] = dbURL
	}
	tend, err := e2e.Start(e2e.Options{DataDir: dir, Log: w.cfg.Log, Env: env})
	if err != nil {
		os.RemoveAll(dir)
		return err
	}
	w.tends = append(w.tends, tend)
	return nil
}

func pushImage(ref string) error {
	r, err := name.ParseReference(ref)
	if err != nil {
		return err
	}
	img, err := random.Image(256, 1)
	if err != nil {
		return err
	}
	return remote.Write(r, img)
}

func (w *scaleWorld) close() {
	if w.q != nil {
		w.q.Close()
	}
	if w.st != nil {
		w.st.Close()
	}
	for _, t := range w.tends {
		_ = t.Stop()
		os.RemoveAll(t.DataDir)
	}
	if w.db != nil {
		w.db.drop()
	}
	if w.gh != nil {
		w.gh.Close()
	}
	if w.reg != nil {
		w.reg.Close()
	}
}

// alive reports whether every replica is still running.
func (w *scaleWorld) alive() bool {
	for _, t := range w.tends {
		if !t.Alive() {
			return false
		}
	}
	return true
}

// memory returns the largest replica's RSS and peak RSS.
func (w *scaleWorld) memory() (rss, peak int64, err error) {
	for _, t := range w.tends {
		r, p, err := t.Memory()
		if err != nil {
			return 0, 0, err
		}
		rss, peak = max(rss, r), max(peak, p)
	}
	return rss, peak, nil
}

// phase runs start, then waits until done and the queue is idle, and
// returns what tend spent in between.
func (w *scaleWorld) phase(name string, start func() error, done func() (bool, error)) (scalePhase, error) {
	p := scalePhase{Name: name}
	w.gh.ResetRequests()
	for _, t := range w.tends {
		if err := t.ResetPeakMemory(); err != nil {
			return p, err
		}
	}
	t0 := time.Now()
	if err := start(); err != nil {
		return p, fmt.Errorf("%s: %w", name, err)
	}
	deadline := t0.Add(w.cfg.Timeout)
	for {
		ok, err := done()
		if err != nil {
			return p, fmt.Errorf("%s: %w", name, err)
		}
		if ok {
			if ok, err = w.idle(); err != nil {
				return p, err
			}
		}
		if ok {
			break
		}
		if !w.alive() || time.Now().After(deadline) {
			return p, fmt.Errorf("%s did not finish within %s (every replica alive: %v)", name, w.cfg.Timeout, w.alive())
		}
		time.Sleep(200 * time.Millisecond)
	}
	p.Wall = time.Since(t0)
	p.ByOp = map[string]int{}
	for _, r := range w.gh.Requests() {
		p.Requests++
		if !r.NotModified {
			p.Counted++
			p.ByOp[r.Method+" "+r.Operation]++
		}
		if r.Method != "GET" && r.Method != "HEAD" {
			p.Writes++
		}
		if r.Status == http.StatusForbidden || r.Status == http.StatusTooManyRequests {
			p.Refused++
		}
	}
	var err error
	p.RSS, p.PeakRSS, err = w.memory()
	return p, err
}

// idle reports whether no key is running or due within the next seconds.
func (w *scaleWorld) idle() (bool, error) {
	jobs, err := w.q.Jobs(context.Background(), 10, rivertype.JobStateAvailable, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStatePending)
	if err != nil {
		return false, err
	}
	return len(jobs) == 0, nil
}

// countPRs counts open tend PRs, and keys (head branches) with more than
// one PR of any state.
func (w *scaleWorld) countPRs() (open, dupes int) {
	for r := 0; r < w.cfg.Repos; r++ {
		seen := map[string]int{}
		for _, pr := range w.gh.PullRequests(scaleRepo(r)) {
			seen[pr.HeadRef]++
			if pr.State == "open" {
				open++
			}
		}
		for _, n := range seen {
			if n > 1 {
				dupes++
			}
		}
	}
	return open, dupes
}

func (r *scaleResult) report() string {
	var b strings.Builder
	paths := r.cfg.Repos * r.cfg.Paths
	db := "SQLite"
	if r.cfg.Postgres != "" {
		db = fmt.Sprintf("Postgres, %d replica(s)", max(r.cfg.Replicas, 1))
	}
	pace := "write pacing off"
	if r.cfg.paced() {
		pace = fmt.Sprintf("paced and limited at 80 writes a %s and 500 a %s", r.cfg.PaceMinute, r.cfg.PaceHour)
	}
	fmt.Fprintf(&b, "scale: %d repositories × %d paths = %d paths, images rule, %d images on a loopback registry, %s, %d workers each, %s\n",
		r.cfg.Repos, r.cfg.Paths, paths, r.cfg.Images, db, r.cfg.Workers, pace)
	b.WriteString("| phase | wall | paths/s | requests | counted (not 304) | per path | writes | 403/429 | peak RSS (largest replica) | RSS after |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, p := range r.phases {
		fmt.Fprintf(&b, "| %s | %s | %.0f | %d | %d | %.2f | %d | %d | %d MB | %d MB |\n", p.Name, p.Wall.Round(100*time.Millisecond),
			float64(paths)/p.Wall.Seconds(), p.Requests, p.Counted, float64(p.Counted)/float64(paths), p.Writes, p.Refused, p.PeakRSS>>20, p.RSS>>20)
	}
	for _, p := range r.phases {
		fmt.Fprintf(&b, "%s, counted requests by operation: %s\n", p.Name, byCount(p.ByOp))
	}
	fmt.Fprintf(&b, "open PRs: %d; keys with more than one PR: %d; idle RSS: %d MB\n", r.prs, r.dupes, r.idleRSS>>20)
	return b.String()
}

// byCount lists counts, largest first.
func byCount(m map[string]int) string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		return m[names[i]] > m[names[j]] || m[names[i]] == m[names[j]] && names[i] < names[j]
	})
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %d", n, m[n])
	}
	return strings.Join(parts, ", ")
}

func scaleMain(args []string) error {
	fs := flag.NewFlagSet("scale", flag.ExitOnError)
	cfg := scaleConfig{}
	fs.IntVar(&cfg.Repos, "repos", 1000, "repositories in the installation")
	fs.IntVar(&cfg.Paths, "paths", 10, "mapped paths per repository")
	fs.IntVar(&cfg.Images, "images", 20, "distinct images referenced")
	fs.IntVar(&cfg.Workers, "workers", 16, "tend's TEND_WORKERS")
	fs.DurationVar(&cfg.Timeout, "timeout", 2*time.Hour, "give up on a phase after this")
	fs.StringVar(&cfg.Postgres, "postgres", os.Getenv("DATABASE_URL"), "URL of a Postgres server to run on (default $DATABASE_URL; empty: SQLite); a throwaway database is created on it and dropped")
	fs.IntVar(&cfg.Replicas, "replicas", 1, "tend processes sharing the Postgres database")
	fs.DurationVar(&cfg.PaceMinute, "pace-minute", 0, "with -pace-hour: GitHub's secondary limits and tend's write pacing, 80 writes per this window (e.g. 1s)")
	fs.DurationVar(&cfg.PaceHour, "pace-hour", 0, "with -pace-minute: 500 writes per this window (e.g. 4s)")
	verbose := fs.Bool("v", false, "print tend's log")
	_ = fs.Parse(args)
	if cfg.Replicas > 1 && cfg.Postgres == "" {
		return errors.New("scale: -replicas needs Postgres (-postgres or DATABASE_URL): SQLite is one process")
	}
	if *verbose {
		cfg.Log = os.Stderr
	}
	res, err := runScale(cfg)
	if res != nil {
		fmt.Print(res.report())
	}
	if err != nil {
		return errors.Join(errors.New("scale run failed"), err)
	}
	return nil
}
