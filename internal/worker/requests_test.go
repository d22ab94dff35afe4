package worker_test

import (
	"github.com/tend-app/tend/internal/botpr"

	"context"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/gregjones/httpcache"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/tend-app/tend/internal/config"
	"github.com/tend-app/tend/internal/fakegithub"
	"github.com/tend-app/tend/internal/keys"
	"github.com/tend-app/tend/internal/queue"
	"github.com/tend-app/tend/internal/testdb"
	"github.com/tend-app/tend/internal/worker"
	"github.com/tend-app/tend/reconcilers"
	"github.com/tend-app/tend/reconcilers/changes"
	"github.com/tend-app/tend/reconcilers/commands"
	"github.com/tend-app/tend/reconcilers/images"
)

// bench is an in-process worker with the images reconciler against the
// fake GitHub and a registry, with the conditional-request cache tend uses.
type bench struct {
	gh      *fakegithub.Server
	worker  *worker.Worker
	manager *changes.Manager
}

func newBench(t testing.TB, files map[string]string) *bench {
	t.Helper()
	gh := fakegithub.New(t)
	gh.AddInstallation(1, "acme")
	gh.AddRepoWithFiles(1, "acme/web", "main", files)
	st := testdb.Open(t, "sqlite", "")
	cfg := gh.AppConfig()
	cache := httpcache.NewMemoryCache()
	clients, err := githubapp.NewDefaultCachingClientCreator(cfg, githubapp.WithClientCaching(true, func() httpcache.Cache { return cache }))
	if err != nil {
		t.Fatal(err)
	}
	app, err := clients.NewAppClient()
	if err != nil {
		t.Fatal(err)
	}
	m := &changes.Manager{Identity: botpr.NewIdentity(gh.AppID(), "tend"), Counter: st}
	w := &worker.Worker{
		Clients:       clients,
		Installations: githubapp.NewCachingInstallationsService(githubapp.NewInstallationsService(app), time.Hour, time.Hour),
		Configs:       config.NewCache(config.NewLoader(), st),
		Reconcilers:   map[string]reconcilers.Reconciler{"images": &images.Reconciler{Changes: m, Index: st}},
		PRs:           m, Forget: st, Meta: st,
		Commands: &commands.Pipeline{Identity: m.Identity, PRs: m, Quiet: m},
	}
	return &bench{gh: gh, worker: w, manager: m}
}

// run reconciles key and returns the requests it made to GitHub.
func (b *bench) run(t testing.TB, key string) (reconcilers.Result, []fakegithub.RequestRecord) {
	t.Helper()
	b.gh.ResetRequests()
	log := zerolog.Nop()
	res, err := b.worker.Run(context.Background(), queue.Run{Key: keys.MustParse(key), Attempt: 1, Trigger: "resync", Log: &log})
	if err != nil {
		t.Fatalf("run %s: %v", key, err)
	}
	return res, b.gh.Requests()
}

func notModified(reqs []fakegithub.RequestRecord) int {
	n := 0
	for _, r := range reqs {
		if r.NotModified {
			n++
		}
	}
	return n
}

func ops(reqs []fakegithub.RequestRecord) string {
	var out []string
	for _, r := range reqs {
		out = append(out, fmt.Sprintf("%s %d", r.Operation, r.Status))
	}
	return strings.Join(out, ", ")
}

func pushImage(t testing.TB, host, repo string) {
	t.Helper()
	ref, err := name.ParseReference(host + "/" + repo)
	if err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(128, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
}

const pinConfig = "version: 1\nrules:\n  - {name: pin, reconciler: images, paths: [\"deploy/*.yaml\"]}\n"

// The request budget of a reconcile, counted by the fake GitHub. These are
// counts, not timings: they do not depend on the machine.
func TestRequestsPerReconcile(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	pushImage(t, host, "acme/app:1")
	b := newBench(t, map[string]string{
		".github/tend.yaml": pinConfig,
		"deploy/app.yaml":   "image: " + host + "/acme/app:1\n",
		"deploy/done.yaml":  "image: nginx@sha256:" + strings.Repeat("a", 64) + "\n",
	})
	report := &strings.Builder{}
	row := func(name string, reqs []fakegithub.RequestRecord) {
		fmt.Fprintf(report, "| %s | %d | %d | %s |\n", name, len(reqs), notModified(reqs), ops(reqs))
	}
	// Warm the worker's installation, config and branch caches as a running
	// tend has them.
	b.run(t, "acme/web:pin")

	// No-op: the file is already in its desired state.
	_, cold := b.run(t, "acme/web:pin:deploy/done.yaml")
	row("no-op, cold cache", cold)
	res, warm := b.run(t, "acme/web:pin:deploy/done.yaml")
	row("no-op, warm cache", warm)
	if res.Outcome != "noop" || len(warm) > 3 || float64(notModified(warm)) < 0.8*float64(len(warm)) {
		t.Errorf("no-op: %s with %d requests, %d answered 304; want ≤ 3 and ≥ 80%% 304: %s", res.Outcome, len(warm), notModified(warm), ops(warm))
	}

	// Opening a PR with one changed file.
	res, open := b.run(t, "acme/web:pin:deploy/app.yaml")
	row("open a PR (1 file)", open)
	if res.Outcome != "pr-opened" {
		t.Fatalf("outcome %s", res.Outcome)
	}
	managerOps := countManager(open)
	if managerOps > 7 {
		t.Errorf("opening a PR took %d change-manager requests, want ≤ 7: %s", managerOps, ops(open))
	}
	// The rule's resync after the PR opened: its listing of the
	// repository's open PRs changed (the new PR) and is read again; the
	// key it enqueues finds its PR in that same listing (a 304), and reads
	// no comments, because nothing changed the PR since tend opened it.
	_, resync := b.run(t, "acme/web:pin")
	row("resync of the rule after opening a PR", resync)
	if c := len(resync) - notModified(resync); c > 1 {
		t.Errorf("the rule's resync made %d requests that count, want ≤ 1 (its PR listing): %s", c, ops(resync))
	}
	res, again := b.run(t, "acme/web:pin:deploy/app.yaml")
	row("PR up to date (first time after opening it, after the resync)", again)
	if res.Outcome != "up-to-date" || len(again) > 3 || notModified(again) != len(again) {
		t.Errorf("up to date after the resync: %s with %d requests, %d answered 304; want ≤ 3, all 304: %s", res.Outcome, len(again), notModified(again), ops(again))
	}
	res, again = b.run(t, "acme/web:pin:deploy/app.yaml")
	row("PR up to date, warm cache", again)
	// The run reads the key's PR once, for its commands and for the change
	// manager: three requests, each a 304 when nothing changed, so none
	// counts against the rate limit.
	if res.Outcome != "up-to-date" || len(again) > 3 || notModified(again) != len(again) {
		t.Errorf("up to date: %s with %d requests, %d answered 304; want ≤ 3, all 304: %s", res.Outcome, len(again), notModified(again), ops(again))
	}
	// A comment moves the PR's updated_at: the next run reads the PR's
	// comments (once; later runs revalidate them with a 304).
	fakegithub.WaitNextSecond()
	b.gh.AddComment("acme/web", res.PR, "maya", "looks good")
	_, commented := b.run(t, "acme/web:pin:deploy/app.yaml")
	row("PR up to date, after a person commented", commented)
	if !hasOp(commented, "issues/list-comments") {
		t.Errorf("a comment did not make the run read the PR's comments: %s", ops(commented))
	}
	// The tag moves: update the PR.
	pushImage(t, host, "acme/app:1")
	res, upd := b.run(t, "acme/web:pin:deploy/app.yaml")
	row("update a PR (tag moved)", upd)
	if res.Outcome != "pr-updated" {
		t.Fatalf("outcome %s", res.Outcome)
	}

	// Opening a PR with 20 changed files costs the change manager the same.
	manyFiles := []changes.FileChange{}
	for i := 0; i < 20; i++ {
		manyFiles = append(manyFiles, changes.FileChange{Path: fmt.Sprintf("gen/f%02d.txt", i), Desired: []byte(fmt.Sprintf("generated %d\n", i))})
	}
	b.gh.ResetRequests()
	client, err := b.worker.Clients.NewInstallationClient(1)
	if err != nil {
		t.Fatal(err)
	}
	base, err := changes.ReadBase(context.Background(), client, "acme", "web", "main")
	if err != nil {
		t.Fatal(err)
	}
	b.gh.ResetRequests()
	out, err := b.manager.Apply(context.Background(), client, "acme", "web", &changes.Change{
		Key: keys.MustParse("acme/web:gen#1"), Rule: "gen", Base: base, Files: manyFiles, Title: "Generate files",
		PullRequests: config.PullRequests{Limit: 10, Labels: []string{"tend"}}, Summary: "twenty files",
	})
	if err != nil || out.Action != "pr-opened" {
		t.Fatalf("apply 20 files: %+v %v", out, err)
	}
	many := b.gh.Requests()
	row("open a PR (20 files), change manager only", many)
	if len(many) != managerOps {
		t.Errorf("20 files took %d requests, 1 file %d: the count grows with files: %s", len(many), managerOps, ops(many))
	}
	if len(many) > 7 {
		t.Errorf("opening a PR took %d requests, want ≤ 7", len(many))
	}
	t.Logf("\n| scenario | requests | answered 304 | requests made |\n|---|---|---|---|\n%s", report)
	if f := os.Getenv("TEND_REQUESTS_REPORT"); f != "" {
		_ = os.WriteFile(f, []byte(report.String()), 0o644)
	}
}

func hasOp(reqs []fakegithub.RequestRecord, op string) bool {
	for _, r := range reqs {
		if r.Operation == op {
			return true
		}
	}
	return false
}

// countManager counts the requests of the change manager in a reconcile:
// everything after the reconciler's own reads (branch and file).
func countManager(reqs []fakegithub.RequestRecord) int {
	n := 0
	for _, r := range reqs {
		switch r.Operation {
		case "repos/get-branch", "repos/get-content", "apps/get-repo-installation", "repos/get":
			continue
		}
		n++
	}
	return n
}
