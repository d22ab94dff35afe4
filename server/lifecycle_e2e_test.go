package main

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/store"
	"github.com/tend-app/tend/internal/testwait"
)

// While its installation is suspended a repository's keys are not run and
// do not retry into the dead letters. The unsuspend webhook, which (as
// GitHub's) lists no repositories, resyncs every repository of the
// installation: the one tend knew, where a path was added meanwhile, and
// one added to the installation during the suspension, which tend had never
// seen.
func TestSuspendedInstallation(t *testing.T) {
	reg := newRegistry(t)
	reg.push(t, "acme/app", "1.0", false)
	reg.push(t, "acme/base", "2", false)
	w := newWorld(t, reg, worldOptions{
		repo: "acme/web", webhooks: true,
		files: map[string]string{".github/tend.yaml": imagesConfig, "README.md": "web\n"},
	})
	// The discovery at start finds acme/web; only then is it known, and
	// only then is a repository added later left for the unsuspend to find.
	testwait.For(t, time.Minute, func() bool { return strings.Contains(w.logs.String(), `"task":"discover"`) }, "the discovery at start")
	w.settle(t)

	w.gh.SuspendInstallation(7, true)
	w.gh.Commit("acme/web", "main", map[string]string{"deploy/app.yaml": deployment(reg.ref("acme/app", "1.0"))}, nil, "alice", "Add the app")
	// GitHub tells a suspended installation nothing: tend does not hear of
	// the repository added to it now (the push above it does hear of, so
	// that a run meets the suspension).
	if err := w.gh.WaitWebhooksDelivered(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	w.gh.DropWebhooks(1)
	w.gh.AddRepoWithFiles(7, "acme/ops", "main", map[string]string{
		".github/tend.yaml": imagesConfig,
		"deploy/app.yaml":   deployment(reg.ref("acme/app", "1.0")),
		"Dockerfile":        dockerfile(reg.ref("acme/base", "2")),
	})
	w.settle(t)
	for _, repo := range []string{"acme/web", "acme/ops"} {
		if prs := w.gh.PullRequests(repo); len(prs) != 0 {
			t.Fatalf("%s: %d PRs opened while the installation was suspended: %+v", repo, len(prs), prs)
		}
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
	if err := w.gh.WaitWebhooksDelivered(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	ds := w.gh.Deliveries()
	if last := ds[len(ds)-1]; last.Action != "unsuspend" || last.Status != http.StatusOK || strings.Contains(string(last.Body), `"repositories"`) {
		t.Fatalf("the unsuspend delivery: %s %d %s; want GitHub's shape (no repositories) and 200", last.Action, last.Status, last.Body)
	}
	want := map[string][]string{
		"acme/web": {"acme/web:pin-images:deploy/app.yaml"},
		"acme/ops": {"acme/ops:pin-images:Dockerfile", "acme/ops:pin-images:deploy/app.yaml"},
	}
	testwait.For(t, time.Minute, func() bool {
		return len(w.gh.PullRequests("acme/web")) == 1 && len(w.gh.PullRequests("acme/ops")) == 2
	}, "a PR for every managed path of both repositories after the unsuspend")
	w.settle(t)
	for repo, wantKeys := range want {
		var got []string
		for _, pr := range w.gh.PullRequests(repo) {
			if st, ok := botpr.ParseState(pr.Body); ok && pr.State == "open" {
				got = append(got, st.Key)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, wantKeys) {
			t.Errorf("%s after unsuspend: open PRs for %v, want %v", repo, got, wantKeys)
		}
	}
}

// appWorld is acme/web with the images config, where alice adds
// deploy/app.yaml referencing acme/app:1.0 (which reg must hold); it
// returns once tend opened its PR, and the PR's branch.
func appWorld(t *testing.T, reg *testRegistry) (*liveWorld, string) {
	t.Helper()
	w := newWorld(t, reg, worldOptions{
		repo: "acme/web", webhooks: true,
		files: map[string]string{".github/tend.yaml": imagesConfig, "README.md": "web\n"},
	})
	w.gh.Commit("acme/web", "main", map[string]string{"deploy/app.yaml": deployment(reg.ref("acme/app", "1.0"))}, nil, "alice", "Add the app")
	w.settle(t)
	return w, botpr.BranchName(mustKey(t, "acme/web:pin-images:deploy/app.yaml"))
}

// A renamed and then transferred repository keeps its one PR per key: a
// push under the new name updates the existing PR rather than opening a
// second one, and what tend knows moved to the new name.
func TestRenamedRepository(t *testing.T) {
	reg := newRegistry(t)
	reg.push(t, "acme/app", "1.0", false)
	digest2 := reg.push(t, "acme/app", "2.0", false)
	w, branch := appWorld(t, reg)
	first := w.prFor(t, branch)

	for _, move := range []struct{ from, to string }{{"acme/web", "acme/site"}, {"acme/site", "corp/site"}} {
		w.gh.MoveRepo(move.from, move.to, "alice")
		w.settle(t)
		if prs := w.gh.PullRequests(move.to); len(prs) != 1 {
			t.Fatalf("after moving %s to %s: %d PRs, want the one from before: %+v", move.from, move.to, len(prs), prs)
		}
	}
	w.gh.Commit("corp/site", "main", map[string]string{"deploy/app.yaml": deployment(reg.ref("acme/app", "2.0"))}, nil, "alice", "Bump the app")
	w.settle(t)
	prs := w.gh.PullRequests("corp/site")
	if len(prs) != 1 || prs[0].Number != first.Number || prs[0].State != "open" {
		t.Fatalf("after a push under the new name: PRs %+v, want only #%d, open", prs, first.Number)
	}
	got, _ := w.gh.File("corp/site", branch, "deploy/app.yaml")
	if want := deployment(reg.ref("acme/app", "2.0") + "@" + digest2); got != want {
		t.Errorf("deploy/app.yaml on the PR branch after the push:\n%s\nwant:\n%s", got, want)
	}
	if st, ok := botpr.ParseState(prs[0].Body); !ok || st.Key != "corp/site:pin-images:deploy/app.yaml" {
		t.Errorf("state block after the move = %+v", st)
	}
	st, err := store.OpenSQLite(context.Background(), w.tend.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	counts, err := st.PRCounts(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) != 1 || counts[0].Repo != "corp/site" || counts[0].Open != 1 {
		t.Errorf("PR slots after the moves = %+v, want one open under corp/site", counts)
	}
	if images, err := st.KeysForImage(context.Background(), reg.host+"/acme/app"); err != nil || len(images) != 1 || images[0] != "corp/site:pin-images:deploy/app.yaml" {
		t.Errorf("image index after the moves = %v %v, want the key under corp/site only", images, err)
	}
}

// When the default branch changes, the next runs use the new branch and the
// open PR is regenerated on it and retargeted (one PR still).
func TestDefaultBranchChanged(t *testing.T) {
	reg := newRegistry(t)
	reg.push(t, "acme/app", "1.0", false)
	w, branch := appWorld(t, reg)
	first := w.prFor(t, branch)
	if first.BaseRef != "main" {
		t.Fatalf("PR base = %s, want main", first.BaseRef)
	}

	trunk := w.gh.Commit("acme/web", "trunk", map[string]string{"README.md": "web, on trunk\n"}, nil, "alice", "Start trunk")
	w.gh.SetDefaultBranch("acme/web", "trunk", "alice")
	w.settle(t)
	prs := w.openPRs()
	if len(prs) != 1 || prs[0].Number != first.Number || prs[0].BaseRef != "trunk" || prs[0].BaseSHA != trunk {
		t.Fatalf("after the default branch changed: open PRs %+v, want #%d against trunk at %s", prs, first.Number, trunk)
	}
	if readme, _ := w.gh.File("acme/web", branch, "README.md"); readme != "web, on trunk\n" {
		t.Errorf("the PR branch was not regenerated on trunk: README.md = %q", readme)
	}
}

// Deleting the config closes tend's open PRs with a comment saying why and
// deletes their branches.
func TestConfigDeletedClosesPRs(t *testing.T) {
	reg := newRegistry(t)
	reg.push(t, "acme/app", "1.0", false)
	reg.push(t, "acme/base", "2", false)
	w := newWorld(t, reg, worldOptions{
		repo: "acme/web", webhooks: true,
		files: map[string]string{".github/tend.yaml": imagesConfig, "README.md": "web\n"},
	})
	w.gh.Commit("acme/web", "main", map[string]string{
		"deploy/app.yaml": deployment(reg.ref("acme/app", "1.0")),
		"Dockerfile":      dockerfile(reg.ref("acme/base", "2")),
	}, nil, "alice", "Add the app")
	w.settle(t)
	prs := w.openPRs()
	if len(prs) != 2 {
		t.Fatalf("%d open PRs, want 2: %+v", len(prs), prs)
	}

	w.gh.Commit("acme/web", "main", nil, []string{".github/tend.yaml"}, "alice", "Stop using tend")
	w.settle(t)
	if open := w.openPRs(); len(open) != 0 {
		t.Fatalf("PRs still open after the config was deleted: %+v", open)
	}
	for _, pr := range prs {
		comments := w.gh.Comments("acme/web", pr.Number)
		if len(comments) == 0 || !strings.Contains(comments[len(comments)-1].Body, "no longer has a `.github/tend.yaml`") {
			t.Errorf("PR #%d: comments %+v, want one saying the config is gone", pr.Number, comments)
		}
		if _, ok := w.gh.Branch("acme/web", pr.HeadRef); ok {
			t.Errorf("PR #%d: branch %s was not deleted", pr.Number, pr.HeadRef)
		}
	}
}
