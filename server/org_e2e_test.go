package main

import (
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/tend-app/tend/internal/e2e"
	"github.com/tend-app/tend/internal/fakegithub"
)

// org is a fake GitHub holding one installation with many repositories,
// and a tend started on it after they exist (so start-up discovery finds
// them all at once, like a resync of a large organisation).
type org struct {
	*liveWorld
	repos []string
}

// orgOptions shape an organisation: repos repositories of paths managed
// images files each, every file pinning image ref (an unpinned tag).
type orgOptions struct {
	repos, paths int
	ref          string
	env          map[string]string
	ghOpts       []fakegithub.Option
}

func orgConfig(limit int) string {
	return imagesConfig + fmt.Sprintf("pull_requests: {limit: %d}\n", limit)
}

func startOrg(t *testing.T, reg *testRegistry, o orgOptions) *org {
	t.Helper()
	gh := fakegithub.New(t, o.ghOpts...)
	gh.AddInstallation(7, "acme")
	var repos []string
	for i := range o.repos {
		files := map[string]string{".github/tend.yaml": orgConfig(max(o.paths, 1))}
		for j := range o.paths {
			files[fmt.Sprintf("deploy/app%03d.yaml", j)] = deployment(o.ref)
		}
		name := fmt.Sprintf("acme/svc%02d", i)
		gh.AddRepoWithFiles(7, name, "main", files)
		repos = append(repos, name)
	}
	logs := &syncBuffer{}
	env := tendEnv(t, gh)
	for k, v := range o.env {
		env[k] = v
	}
	tend, err := e2e.Start(e2e.Options{Env: env, Log: logs})
	if err != nil {
		t.Fatalf("%v\n%s", err, logs.String())
	}
	w := &liveWorld{world: &world{gh: gh, tend: tend, logs: logs, secrets: secretsIn(env)}, repo: repos[0], reg: reg}
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
	return &org{liveWorld: w, repos: repos}
}

// openPRCount counts the open PRs across the organisation.
func (o *org) openPRCount() int {
	n := 0
	for _, r := range o.repos {
		for _, pr := range o.gh.PullRequests(r) {
			if pr.State == "open" {
				n++
			}
		}
	}
	return n
}

// tendEnv is the environment of a tend talking to gh, with recognisable
// secrets, fast polling and retries, and info-level logs.
func tendEnv(t *testing.T, gh *fakegithub.Server) map[string]string {
	return map[string]string{
		"GITHUB_APP_INTEGRATION_ID": strconv.FormatInt(gh.AppID(), 10),
		"GITHUB_APP_PRIVATE_KEY":    string(gh.AppKeyPEM()),
		"GITHUB_APP_WEBHOOK_SECRET": webhookSecret,
		"GITHUB_CLIENT_SECRET":      canaryClientSecret,
		"GITHUB_V3_API_URL":         gh.URL(),
		"TEND_DATA_DIR":             t.TempDir(),
		"TEND_SETTLE":               "0",
		"TEND_POLL_INTERVAL":        "50ms",
		"TEND_RETRY_BASE":           "200ms",
		"TEND_LOG_LEVEL":            "info",
	}
}
