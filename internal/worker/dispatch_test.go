package worker_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-github/v89/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/tend-app/tend/internal/config"
	"github.com/tend-app/tend/internal/fakegithub"
	"github.com/tend-app/tend/internal/keys"
	"github.com/tend-app/tend/internal/queue"
	"github.com/tend-app/tend/internal/store"
	"github.com/tend-app/tend/internal/testdb"
	"github.com/tend-app/tend/internal/worker"
	"github.com/tend-app/tend/reconcilers"
	"github.com/tend-app/tend/reconcilers/changes"
)

// The worker's dispatch by key kind, in process: the fake GitHub behind the
// real go-githubapp clients, the real config cache and store, and
// reconcilers that record the Request they are given.

const dispatchConfig = `version: 1
rules:
  - {name: pin, reconciler: images, paths: ["deploy/*.yaml"]}
  - name: docs
    reconciler: agent
    prompt: "Every doc ends with a line 'Reviewed.'"
    paths: ["docs/*.md"]
    edits: ["docs/**"]
    on: {issues: {label: tend}}
`

type dispatchBench struct {
	gh     *fakegithub.Server
	st     *store.Store
	worker *worker.Worker
	seen   *requestLog
	prs    *fakePRs
}

func newDispatchBench(t *testing.T, files map[string]string) *dispatchBench {
	t.Helper()
	gh := fakegithub.New(t)
	gh.AddInstallation(1, "acme")
	gh.AddRepoWithFiles(1, "acme/web", "main", files)
	st := testdb.Open(t, "sqlite", "")
	clients, err := gh.ClientCreator()
	if err != nil {
		t.Fatal(err)
	}
	app, err := clients.NewAppClient()
	if err != nil {
		t.Fatal(err)
	}
	seen := &requestLog{}
	prs := &fakePRs{open: map[string][]keys.Key{}}
	w := &worker.Worker{
		Clients:       clients,
		Installations: githubapp.NewInstallationsService(app),
		Configs:       config.NewCache(config.NewLoader(), st),
		Reconcilers: map[string]reconcilers.Reconciler{
			"images": seen.reconciler("images"),
			"agent":  seen.reconciler("agent"),
		},
		PRs: prs, Forget: st, Meta: st,
	}
	return &dispatchBench{gh: gh, st: st, worker: w, seen: seen, prs: prs}
}

func (b *dispatchBench) run(t *testing.T, run queue.Run) (reconcilers.Result, error) {
	t.Helper()
	log := zerolog.Nop()
	run.Log = &log
	return b.worker.Run(context.Background(), run)
}

func (b *dispatchBench) mustRun(t *testing.T, key, trigger string) reconcilers.Result {
	t.Helper()
	res, err := b.run(t, queue.Run{Key: keys.MustParse(key), Trigger: trigger, Attempt: 1})
	if err != nil {
		t.Fatalf("run %s: %v", key, err)
	}
	return res
}

func keyStrings(ks []keys.Key) []string {
	out := make([]string, 0, len(ks))
	for _, k := range ks {
		out = append(out, k.String())
	}
	slices.Sort(out)
	return out
}

// A repository key reloads the config and fans out to its rules when the
// config changed (or the App was just installed), and to nothing otherwise.
func TestDispatchRepoKey(t *testing.T) {
	b := newDispatchBench(t, map[string]string{".github/tend.yaml": dispatchConfig})
	res := b.mustRun(t, "acme/web", "installation:created")
	if res.Outcome != "config-loaded" || !slices.Equal(keyStrings(res.Enqueue), []string{"acme/web:docs", "acme/web:pin"}) {
		t.Errorf("first run = %s %v; want both rules enqueued", res.Outcome, keyStrings(res.Enqueue))
	}
	if rec, ok, err := b.st.GetRepo(context.Background(), "acme/web"); err != nil || !ok || !rec.Managed {
		t.Errorf("the loaded config was not stored: %+v %v %v", rec, ok, err)
	}
	if res := b.mustRun(t, "acme/web", "resync"); res.Outcome != "config-unchanged" || len(res.Enqueue) != 0 {
		t.Errorf("unchanged config = %s %v; want no fan-out", res.Outcome, keyStrings(res.Enqueue))
	}
	// A push that changes the config: reloaded, and only the remaining rule runs.
	b.gh.Commit("acme/web", "main", map[string]string{".github/tend.yaml": "version: 1\nrules:\n  - {name: pin, reconciler: images, paths: [\"deploy/*.yaml\"]}\n"}, nil, "alice", "Drop docs")
	if res := b.mustRun(t, "acme/web", "push:a..b"); res.Outcome != "config-loaded" || !slices.Equal(keyStrings(res.Enqueue), []string{"acme/web:pin"}) {
		t.Errorf("after the config changed = %s %v", res.Outcome, keyStrings(res.Enqueue))
	}
	if n := b.seen.len(); n != 0 {
		t.Errorf("a repository key ran %d reconcilers", n)
	}
}

// A rule key fans out to the paths the rule matches on the default branch,
// the open issues carrying its label, and its open PRs.
func TestDispatchRuleKey(t *testing.T) {
	b := newDispatchBench(t, map[string]string{
		".github/tend.yaml": dispatchConfig,
		"docs/a.md":         "A\n",
		"docs/b.md":         "B\n",
		"docs/img/x.png":    "not matched: ** is not in the glob\n",
		"deploy/a.yaml":     "image: app:1\n",
	})
	b.gh.AddIssue("acme/web", 7, "Document the API", "", "alice", []string{"tend"})
	b.gh.AddIssue("acme/web", 8, "Unrelated", "", "alice", nil)
	gone := keys.MustParse("acme/web:docs:docs/removed.md")
	b.prs.open["docs"] = []keys.Key{gone, keys.MustParse("acme/web:docs:docs/a.md")}

	res := b.mustRun(t, "acme/web:docs", "resync")
	want := []string{"acme/web:docs#7", "acme/web:docs:docs/a.md", "acme/web:docs:docs/b.md", gone.String()}
	slices.Sort(want)
	if res.Outcome != "resynced" || !slices.Equal(keyStrings(res.Enqueue), want) {
		t.Errorf("rule fan-out = %s %v; want %v (each key once)", res.Outcome, keyStrings(res.Enqueue), want)
	}
	if res := b.mustRun(t, "acme/web:pin", "resync"); !slices.Equal(keyStrings(res.Enqueue), []string{"acme/web:pin:deploy/a.yaml"}) {
		t.Errorf("pin fan-out = %v", keyStrings(res.Enqueue))
	}
	if res := b.mustRun(t, "acme/web:nosuch", "resync"); res.Outcome != "rule-gone" || len(res.Enqueue) != 0 {
		t.Errorf("a rule not in the config = %s %v", res.Outcome, keyStrings(res.Enqueue))
	}
	if n := b.seen.len(); n != 0 {
		t.Errorf("a rule key ran %d reconcilers", n)
	}
}

// Path and issue keys run the rule's reconciler with the Request built from
// the key, the config and the run, and its Result comes back unchanged.
func TestDispatchPathAndIssueKeys(t *testing.T) {
	b := newDispatchBench(t, map[string]string{".github/tend.yaml": dispatchConfig, "deploy/a.yaml": "image: app:1\n"})
	res, err := b.run(t, queue.Run{Key: keys.MustParse("acme/web:pin:deploy/a.yaml"), Trigger: "push:a..b", Attempt: 2, Delivery: "d-1"})
	if err != nil || res.Outcome != "images-ran" {
		t.Fatalf("path key = %+v %v", res, err)
	}
	res, err = b.run(t, queue.Run{Key: keys.MustParse("acme/web:docs#7"), Trigger: "issues:labeled", Attempt: 1})
	if err != nil || res.Outcome != "agent-ran" {
		t.Fatalf("issue key = %+v %v", res, err)
	}
	reqs := b.seen.all()
	if len(reqs) != 2 {
		t.Fatalf("%d reconciles, want 2", len(reqs))
	}
	path, issue := reqs[0], reqs[1]
	if path.by != "images" || path.req.Key.String() != "acme/web:pin:deploy/a.yaml" || path.req.Rule.Name != "pin" ||
		path.req.DefaultBranch != "main" || path.req.InstallationID != 1 || path.req.Trigger != "push:a..b" ||
		path.req.Attempt != 2 || path.req.Delivery != "d-1" || path.req.Client == nil || path.req.Config == nil || len(path.req.Config.Rules) != 2 {
		t.Errorf("path key request = %s %+v", path.by, path.req)
	}
	if issue.by != "agent" || issue.req.Key.Issue != 7 || issue.req.Rule.Name != "docs" || issue.req.Rule.Prompt == "" || issue.req.Trigger != "issues:labeled" {
		t.Errorf("issue key request = %s %+v", issue.by, issue.req)
	}
	// A path the rule's globs no longer match closes its PR instead.
	if res := b.mustRun(t, "acme/web:pin:other/a.yaml", "resync"); res.Outcome != "path-unmatched" || b.seen.len() != 2 {
		t.Errorf("unmatched path = %s, %d reconciles", res.Outcome, b.seen.len())
	}
	if got := b.prs.closedKeys(); !slices.Equal(got, []string{"acme/web:pin:other/a.yaml"}) {
		t.Errorf("closed PRs of %v", got)
	}
}

// A rule whose reconciler this build does not provide fails permanently:
// retrying cannot help.
func TestDispatchUnknownReconcilerIsPermanent(t *testing.T) {
	b := newDispatchBench(t, map[string]string{".github/tend.yaml": dispatchConfig, "docs/a.md": "A\n"})
	delete(b.worker.Reconcilers, "agent")
	_, err := b.run(t, queue.Run{Key: keys.MustParse("acme/web:docs:docs/a.md"), Attempt: 1})
	if err == nil || !reconcilers.IsPermanent(err) {
		t.Fatalf("err = %v; want a permanent error", err)
	}
	if b.seen.len() != 0 {
		t.Errorf("a reconciler ran")
	}
}

// A repository the App is no longer installed on is forgotten, and the
// run succeeds (nothing to retry).
func TestDispatchUninstalledRepoIsForgotten(t *testing.T) {
	b := newDispatchBench(t, map[string]string{".github/tend.yaml": dispatchConfig})
	ctx := context.Background()
	cfg, err := config.Parse(".github/tend.yaml", []byte(dispatchConfig))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.st.SaveRepo(ctx, store.RepoRecord{Repo: "acme/gone", Managed: true}, cfg); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"acme/gone", "acme/gone:pin", "acme/gone:pin:deploy/a.yaml"} {
		res, err := b.run(t, queue.Run{Key: keys.MustParse(key), Attempt: 1})
		if err != nil || res.Outcome != "not-installed" {
			t.Errorf("%s = %+v %v; want not-installed", key, res, err)
		}
	}
	if _, ok, err := b.st.GetRepo(ctx, "acme/gone"); err != nil || ok {
		t.Errorf("the uninstalled repository is still known (%v %v)", ok, err)
	}
	if b.seen.len() != 0 {
		t.Errorf("a reconciler ran for an uninstalled repository")
	}
}

// requestLog records the requests reconcilers get.
type requestLog struct {
	mu   sync.Mutex
	reqs []seenRequest
}

type seenRequest struct {
	by  string
	req reconcilers.Request
}

func (l *requestLog) reconciler(name string) reconcilers.Reconciler {
	return reconcilers.Func(func(ctx context.Context, req reconcilers.Request) (reconcilers.Result, error) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.reqs = append(l.reqs, seenRequest{by: name, req: req})
		return reconcilers.Result{Outcome: name + "-ran"}, nil
	})
}

func (l *requestLog) all() []seenRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.reqs)
}

func (l *requestLog) len() int { return len(l.all()) }

// fakePRs stands in for the change manager's PR listing and closing.
type fakePRs struct {
	mu     sync.Mutex
	open   map[string][]keys.Key // rule -> keys of its open PRs
	closed []string
}

func (f *fakePRs) OpenPRKeys(_ context.Context, _ *github.Client, _, _, rule string) ([]keys.Key, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if rule == "" {
		var all []keys.Key
		for _, ks := range f.open {
			all = append(all, ks...)
		}
		return all, nil
	}
	return slices.Clone(f.open[rule]), nil
}

func (f *fakePRs) Close(_ context.Context, _ *github.Client, _, _ string, k keys.Key, reason string) (changes.Outcome, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if reason == "" {
		return changes.Outcome{}, errors.New("closing a PR without a reason")
	}
	f.closed = append(f.closed, k.String())
	return changes.Outcome{Action: "closed"}, nil
}

func (f *fakePRs) closedKeys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.closed)
}
