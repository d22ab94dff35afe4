package main

import (
	"context"
	"fmt"
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
	"github.com/tend-app/tend/internal/queue"
	"github.com/tend-app/tend/internal/store"
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
}

type liveWorld struct {
	*world
	repo string
	reg  *testRegistry
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
	w := &liveWorld{world: &world{gh: gh, tend: tend, logs: logs, secrets: secretsIn(env)}, repo: o.repo, reg: reg}
	t.Cleanup(func() {
		if w.q != nil {
			w.q.Close()
		}
		if err := tend.Stop(); err != nil {
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
	deadline := time.Now().Add(60 * time.Second)
	quiet := 0
	for time.Now().Before(deadline) {
		if err := w.gh.WaitWebhooksDelivered(10 * time.Second); err != nil {
			t.Fatal(err)
		}
		jobs, err := w.queue(t).Jobs(context.Background(), 1000, rivertype.JobStateAvailable, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled, rivertype.JobStatePending)
		if err != nil {
			t.Fatal(err)
		}
		busy := false
		for _, j := range jobs {
			if j.State == rivertype.JobStateRunning || j.ScheduledAt.Before(time.Now().Add(5*time.Second)) {
				busy = true
			}
		}
		if busy {
			quiet = 0
		} else if quiet++; quiet >= 3 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("tend did not settle within 60s")
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
	srv := httptest.NewServer(registry.New(registry.Logger(nopLogger())))
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

func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", within, what)
}

func mustKey(t *testing.T, s string) keysKey {
	t.Helper()
	k, err := keysParse(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
