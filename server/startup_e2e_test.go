package main

import (
	"testing"
	"time"

	"github.com/tend-app/tend/internal/testwait"

	"github.com/tend-app/tend/internal/botpr"
)

// A repository tend first hears of through a push (its installation event
// was lost, and start-up discovery had already run) has every matched path
// reconciled soon after, not only the path the push touched: loading its
// config for the push indexes its rules, and a rule indexed for the first
// time is due for a resync at once.
func TestPushToUnknownRepositoryReconcilesEveryPath(t *testing.T) {
	reg := newRegistry(t)
	appRef, apiRef := reg.ref("acme/app", "1.0"), reg.ref("acme/api", "1.0")
	appDigest, apiDigest := reg.push(t, "acme/app", "1.0", false), reg.push(t, "acme/api", "1.0", false)
	w := newWorld(t, reg, worldOptions{repo: "acme/other",
		files: map[string]string{"README.md": "not managed\n"},
		env:   map[string]string{"TEND_RESYNC_TICK": "500ms"},
	})
	// Start-up discovery lists the installation's repositories once.
	testwait.For(t, 30*time.Second, func() bool {
		for _, r := range w.gh.Requests() {
			if r.Path == "/installation/repositories" && r.Status == 200 {
				return true
			}
		}
		return false
	}, "start-up discovery")
	w.settle(t)
	// Then acme/web joins the installation while webhooks are lost, so
	// tend does not hear of it; once they flow again, someone pushes a
	// change to one of its two managed files.
	w.gh.AddRepoWithFiles(7, "acme/web", "main", map[string]string{
		".github/tend.yaml": imagesConfig,
		"deploy/api.yaml":   deployment(apiRef),
	})
	w.gh.SetWebhooks(w.tend.URL+"/api/github/hook", webhookSecret)
	w.gh.Commit("acme/web", "main", map[string]string{"deploy/app.yaml": deployment(appRef)}, nil, "alice", "Add the app")

	for path, want := range map[string]string{
		"deploy/app.yaml": deployment(appRef + "@" + appDigest), // named by the push
		"deploy/api.yaml": deployment(apiRef + "@" + apiDigest), // not named by any event
	} {
		branch := botpr.BranchName(mustKey(t, "acme/web:pin-images:"+path))
		testwait.For(t, 30*time.Second, func() bool {
			got, ok := w.gh.File("acme/web", branch, path)
			return ok && got == want
		}, "the PR for %s", path)
	}
	w.settle(t)
	if n := len(w.gh.PullRequests("acme/web")); n != 2 {
		t.Errorf("%d PRs, want 2 (one per path)", n)
	}
}
