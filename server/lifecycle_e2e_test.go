package main

import (
	"context"
	"strings"
	"testing"

	"github.com/riverqueue/river/rivertype"

	"github.com/tend-app/tend/internal/botpr"
)

// While its installation is suspended a repository's keys are not run and
// do not retry into the dead letters; the unsuspend webhook resyncs the
// installation's repositories and the work skipped meanwhile is done.
func TestSuspendedInstallation(t *testing.T) {
	reg := newRegistry(t)
	reg.push(t, "acme/app", "1.0", false)
	w := newWorld(t, reg, worldOptions{
		repo: "acme/web", webhooks: true,
		files: map[string]string{".github/tend.yaml": imagesConfig, "README.md": "web\n"},
	})
	w.settle(t)

	w.gh.SuspendInstallation(7, true)
	w.gh.Commit("acme/web", "main", map[string]string{"deploy/app.yaml": deployment(reg.ref("acme/app", "1.0"))}, nil, "alice", "Add the app")
	w.settle(t)
	if prs := w.gh.PullRequests("acme/web"); len(prs) != 0 {
		t.Fatalf("%d PRs opened while the installation was suspended: %+v", len(prs), prs)
	}
	if !strings.Contains(w.logs.String(), "installation-suspended") {
		t.Errorf("no run was dropped as suspended; tend output:\n%s", w.logs.String())
	}
	dead, err := w.queue(t).Jobs(context.Background(), 100, rivertype.JobStateDiscarded)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 0 {
		t.Errorf("%d jobs in the dead letters while suspended: %+v", len(dead), dead)
	}

	w.gh.SuspendInstallation(7, false)
	w.settle(t)
	branch := botpr.BranchName(mustKey(t, "acme/web:pin-images:deploy/app.yaml"))
	if prs := w.openPRs(); len(prs) != 1 || prs[0].HeadRef != branch {
		t.Fatalf("after unsuspend: open PRs %+v, want the one for deploy/app.yaml", prs)
	}
}
