package main

import (
	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/testwait"

	"strings"
	"testing"
	"time"

	"github.com/tend-app/tend/internal/testdb"
)

// The server on Postgres (DATABASE_URL): the same push ends in the same PR.
func TestServerOnPostgres(t *testing.T) {
	dbURL := testdb.URL(t, "") // skips (or fails under TEND_REQUIRE_POSTGRES=1) without a server
	reg := newRegistry(t)
	digest := reg.push(t, "acme/app", "1.0", false)
	w := newWorld(t, reg, worldOptions{repo: "acme/web", webhooks: true,
		files: map[string]string{".github/tend.yaml": imagesConfig},
		env:   map[string]string{"DATABASE_URL": dbURL},
	})
	w.gh.Commit("acme/web", "main", map[string]string{"deploy/app.yaml": deployment(reg.ref("acme/app", "1.0"))}, nil, "alice", "Add the app")
	branch := botpr.BranchName(mustKey(t, "acme/web:pin-images:deploy/app.yaml"))
	// The branch is written before the PR is opened: wait for both.
	testwait.For(t, 30*time.Second, func() bool {
		got, ok := w.gh.File("acme/web", branch, "deploy/app.yaml")
		return ok && got == deployment(reg.ref("acme/app", "1.0")+"@"+digest) && len(w.openPRs()) > 0
	}, "the PR")
	if n := len(w.openPRs()); n != 1 {
		t.Errorf("%d open PRs, want 1", n)
	}
	if !strings.Contains(w.logs.String(), `"database":"postgres"`) {
		t.Errorf("tend did not run on Postgres")
	}
}
