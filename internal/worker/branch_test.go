package worker_test

import (
	"context"
	"io"
	"log"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/tend-app/tend/handlers"
	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/config"
	"github.com/tend-app/tend/internal/fakegithub"
	"github.com/tend-app/tend/internal/keys"
	"github.com/tend-app/tend/internal/queue"
	"github.com/tend-app/tend/internal/store"
	"github.com/tend-app/tend/internal/testdb"
	"github.com/tend-app/tend/internal/worker"
	"github.com/tend-app/tend/reconcilers"
	"github.com/tend-app/tend/reconcilers/changes"
	"github.com/tend-app/tend/reconcilers/images"
)

// replica is one tend process's worker: its own clients, config cache and
// change manager, on the shared store.
func replica(t *testing.T, gh *fakegithub.Server, st *store.Store) *worker.Worker {
	t.Helper()
	clients, err := gh.ClientCreator()
	if err != nil {
		t.Fatal(err)
	}
	app, err := clients.NewAppClient()
	if err != nil {
		t.Fatal(err)
	}
	m := &changes.Manager{Identity: botpr.NewIdentity(gh.AppID(), "tend"), Counter: st}
	return &worker.Worker{
		Clients:       clients,
		Installations: githubapp.NewCachingInstallationsService(githubapp.NewInstallationsService(app), time.Hour, time.Hour),
		Configs:       config.NewCache(config.NewLoader(), st),
		Reconcilers:   map[string]reconcilers.Reconciler{"images": &images.Reconciler{Changes: m, Index: st}},
		PRs:           m, Forget: st, Meta: st,
	}
}

// recordingIntake is the queue of the replica that takes the webhooks in.
type recordingIntake struct {
	mu   sync.Mutex
	runs []queue.Run
}

func (r *recordingIntake) Intake(_ context.Context, d queue.Delivery, ks []keys.Key) (queue.IntakeResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range ks {
		r.runs = append(r.runs, queue.Run{Key: k, Trigger: d.Trigger, Delivery: d.ID, Attempt: 1})
	}
	return queue.IntakeResult{Inserted: len(ks)}, nil
}

func (r *recordingIntake) taken() []queue.Run {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.runs)
}

func runOn(t *testing.T, w *worker.Worker, run queue.Run) reconcilers.Result {
	t.Helper()
	l := zerolog.Nop()
	run.Log = &l
	res, err := w.Run(context.Background(), run)
	if err != nil {
		t.Fatalf("run %s: %v", run.Key, err)
	}
	return res
}

// Two replicas share one database. The first learns the default branch and
// opens a PR against it; the repository's default branch then changes to
// another existing branch, and the "repository" edited webhook is handled by
// the second replica. The first replica's next run proposes against the new
// branch (the PR is retargeted), although the old branch still exists.
func TestDefaultBranchChangeSeenByEveryReplica(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	pushImage(t, host, "acme/app:1")
	gh := fakegithub.New(t)
	gh.AddInstallation(1, "acme")
	gh.AddRepoWithFiles(1, "acme/web", "main", map[string]string{
		".github/tend.yaml": pinConfig,
		"deploy/app.yaml":   "image: " + host + "/acme/app:1\n",
	})
	st := testdb.Open(t, "sqlite", "")
	first, second := replica(t, gh, st), replica(t, gh, st)
	path := queue.Run{Key: keys.MustParse("acme/web:pin:deploy/app.yaml"), Trigger: "resync", Attempt: 1}

	runOn(t, first, queue.Run{Key: keys.MustParse("acme/web"), Trigger: "installation:created", Attempt: 1})
	if res := runOn(t, first, path); res.Outcome != "pr-opened" {
		t.Fatalf("first run: %s", res.Outcome)
	}
	prs := gh.PullRequests("acme/web")
	if len(prs) != 1 || prs[0].BaseRef != "main" {
		t.Fatalf("PRs %+v, want one against main", prs)
	}

	// The second replica serves the webhooks.
	const secret = "s3cret"
	intake := &recordingIntake{}
	clients, err := gh.ClientCreator()
	if err != nil {
		t.Fatal(err)
	}
	hooks := httptest.NewServer(githubapp.NewEventDispatcher(handlers.All(handlers.Deps{
		Clients: clients, Configs: second.Configs, Index: st, Queue: intake, Identity: botpr.NewIdentity(gh.AppID(), "tend"),
	}), secret))
	defer hooks.Close()
	trunk := gh.Commit("acme/web", "trunk", map[string]string{"README.md": "on trunk\n"}, nil, "alice", "Start trunk")
	gh.SetWebhooks(hooks.URL, secret)
	gh.SetDefaultBranch("acme/web", "trunk", "alice")
	if err := gh.WaitWebhooksDelivered(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	taken := intake.taken()
	if len(taken) != 1 || taken[0].Key.String() != "acme/web" {
		t.Fatalf("the webhook enqueued %+v, want the repository", taken)
	}
	if _, ok := gh.Branch("acme/web", "main"); !ok {
		t.Fatal("the old default branch is gone; this test needs it to exist")
	}

	// The first replica's next run, before any resync, uses trunk.
	if res := runOn(t, first, path); res.Outcome == "noop" || res.Outcome == "up-to-date" {
		t.Errorf("the first replica's run after the change: %s; want the PR moved to trunk", res.Outcome)
	}
	prs = gh.PullRequests("acme/web")
	if len(prs) != 1 || prs[0].State != "open" || prs[0].BaseRef != "trunk" || prs[0].BaseSHA != trunk {
		t.Fatalf("after the change: PRs %+v, want the one PR against trunk at %s", prs, trunk)
	}
	// The repository's resync on the second replica keeps it so.
	runOn(t, second, taken[0])
	if b, err := st.DefaultBranch(context.Background(), "acme/web"); err != nil || b != "trunk" {
		t.Errorf("recorded default branch = %q %v, want trunk", b, err)
	}
}
