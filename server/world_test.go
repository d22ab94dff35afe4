package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"maps"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/riverqueue/river/rivertype"
	"github.com/rs/zerolog"

	"github.com/tend-app/tend/internal/e2e"
	"github.com/tend-app/tend/internal/fakegithub"
	"github.com/tend-app/tend/internal/keys"
	"github.com/tend-app/tend/internal/queue"
	"github.com/tend-app/tend/internal/store"
	"github.com/tend-app/tend/internal/testwait"
)

// worldOptions describe a fake GitHub with one installed repository, a
// registry, and a running tend that receives the fake's webhooks.
type worldOptions struct {
	repo     string // "acme/web"
	branch   string // default branch
	files    map[string]string
	env      map[string]string
	ghOpts   []fakegithub.Option
	webhooks bool // the fake sends webhooks to tend
	// alsoRepos are more repositories of the installation, with the same
	// files, there before tend starts.
	alsoRepos []string
	// beforeStart runs once the fake GitHub holds the repositories, before
	// tend starts.
	beforeStart func(gh *fakegithub.Server)
}

type liveWorld struct {
	*world
	repo string
	reg  *testRegistry
	env  map[string]string
	mu   sync.Mutex
	q    *queue.Queue
}

func newWorld(t *testing.T, reg *testRegistry, o worldOptions) *liveWorld {
	t.Helper()
	if o.branch == "" {
		o.branch = "main"
	}
	gh := fakegithub.New(t, o.ghOpts...)
	owner, _, _ := strings.Cut(o.repo, "/")
	gh.AddInstallation(7, owner)
	gh.AddRepoWithFiles(7, o.repo, o.branch, o.files)
	for _, r := range o.alsoRepos {
		gh.AddRepoWithFiles(7, r, o.branch, o.files)
	}
	if o.beforeStart != nil {
		o.beforeStart(gh)
	}
	logs := &syncBuffer{}
	env := map[string]string{
		"GITHUB_APP_INTEGRATION_ID": strconv.FormatInt(gh.AppID(), 10),
		"GITHUB_APP_PRIVATE_KEY":    string(gh.AppKeyPEM()),
		"GITHUB_APP_WEBHOOK_SECRET": webhookSecret,
		"GITHUB_V3_API_URL":         gh.URL(),
		"TEND_SETTLE":               "0",
		"TEND_POLL_INTERVAL":        "50ms",
		"TEND_RETRY_BASE":           "200ms",
		"TEND_DATA_DIR":             t.TempDir(),
		"GITHUB_CLIENT_SECRET":      canaryClientSecret,
	}
	for k, v := range o.env {
		env[k] = v
	}
	tend, err := e2e.Start(e2e.Options{Env: env, Log: logs})
	if err != nil {
		t.Fatalf("%v\n%s", err, logs.String())
	}
	w := &liveWorld{world: &world{gh: gh, tend: tend, logs: logs, secrets: secretsIn(env)}, repo: o.repo, reg: reg, env: env}
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
	if o.webhooks {
		gh.SetWebhooks(tend.URL+"/api/github/hook", webhookSecret)
	}
	return w
}

// restart stops tend and starts it again on the same data directory (and
// address): what tend knows must survive.
func (w *liveWorld) restart(t *testing.T) {
	t.Helper()
	if err := w.tend.Stop(); err != nil {
		t.Fatalf("tend did not stop cleanly: %v", err)
	}
	env := maps.Clone(w.env)
	env["TEND_ADDR"] = strings.TrimPrefix(w.tend.URL, "http://")
	tend, err := e2e.Start(e2e.Options{Env: env, Log: w.logs})
	if err != nil {
		t.Fatalf("restart: %v\n%s", err, w.logs.String())
	}
	w.tend = tend
}

// queue opens tend's database from the test process (SQLite in WAL mode
// allows it) to see what is queued.
func (w *liveWorld) queue(t *testing.T) *queue.Queue {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.q == nil {
		st, err := store.OpenSQLite(context.Background(), w.tend.DataDir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		q, err := queue.New(context.Background(), st, nil, queue.Options{InsertOnly: true, Logger: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		w.q = q
	}
	return w.q
}

// settle waits until the fake has delivered its webhooks and tend has no key
// due to run within the next seconds (keys requeued far ahead, like those
// waiting for a PR slot, do not count).
func (w *liveWorld) settle(t *testing.T) {
	t.Helper()
	// Quiet means nothing due for 300ms in a row: a run that just finished
	// may still be committing the follow-up it owes.
	var quietSince time.Time
	var checkErr error
	settled := testwait.Until(60*time.Second, func() bool {
		if checkErr = w.gh.WaitWebhooksDelivered(10 * time.Second); checkErr != nil {
			return true
		}
		jobs, err := w.queue(t).Jobs(context.Background(), 1000, rivertype.JobStateAvailable, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled, rivertype.JobStatePending)
		if checkErr = err; err != nil {
			return true
		}
		for _, j := range jobs {
			if j.State == rivertype.JobStateRunning || j.ScheduledAt.Before(time.Now().Add(5*time.Second)) {
				quietSince = time.Time{}
				return false
			}
		}
		if quietSince.IsZero() {
			quietSince = time.Now()
		}
		return time.Since(quietSince) >= 300*time.Millisecond
	})
	if checkErr != nil {
		t.Fatal(checkErr)
	}
	if !settled {
		t.Fatalf("tend did not settle within 60s")
	}
}

func (w *liveWorld) enqueue(t *testing.T, key string) {
	t.Helper()
	out, code, err := e2e.Run(map[string]string{"TEND_DATA_DIR": w.tend.DataDir}, "enqueue", key)
	if err != nil || code != 0 {
		t.Fatalf("enqueue %s: %d %v %s", key, code, err, out)
	}
}

func (w *liveWorld) openPRs() []fakegithub.PullRequest {
	var out []fakegithub.PullRequest
	for _, pr := range w.gh.PullRequests(w.repo) {
		if pr.State == "open" {
			out = append(out, pr)
		}
	}
	return out
}

func (w *liveWorld) prFor(t *testing.T, branch string) fakegithub.PullRequest {
	t.Helper()
	var found []fakegithub.PullRequest
	for _, pr := range w.gh.PullRequests(w.repo) {
		if pr.HeadRef == branch {
			found = append(found, pr)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d PRs for %s, want 1: %+v", len(found), branch, found)
	}
	return found[0]
}

func (w *liveWorld) checkRunsOn(sha string) []fakegithub.CheckRun {
	var out []fakegithub.CheckRun
	for _, c := range w.gh.CheckRuns(w.repo) {
		if c.HeadSHA == sha {
			out = append(out, c)
		}
	}
	return out
}

// testRegistry is go-containerregistry's in-memory registry on loopback.
type testRegistry struct {
	host string
	srv  *httptest.Server
}

func newRegistry(t *testing.T) *testRegistry {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return &testRegistry{host: strings.TrimPrefix(srv.URL, "http://"), srv: srv}
}

// push uploads a new random image (or a multi-arch index) under repo:tag
// and returns its digest: the same tag moves each time.
func (r *testRegistry) push(t *testing.T, repo, tag string, index bool) string {
	t.Helper()
	ref, err := name.ParseReference(r.host + "/" + repo + ":" + tag)
	if err != nil {
		t.Fatal(err)
	}
	var d v1.Hash
	if index {
		idx, err := random.Index(256, 1, 2)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.WriteIndex(ref, idx); err != nil {
			t.Fatal(err)
		}
		d, _ = idx.Digest()
	} else {
		img, err := random.Image(256, 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(ref, img); err != nil {
			t.Fatal(err)
		}
		d, _ = img.Digest()
	}
	return d.String()
}

func (r *testRegistry) ref(repo, tag string) string {
	return fmt.Sprintf("%s/%s:%s", r.host, repo, tag)
}

func mustKey(t *testing.T, s string) keys.Key {
	t.Helper()
	k, err := keys.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
