package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/e2e"
	"github.com/tend-app/tend/internal/fakegithub"
)

// twoContainers is a manifest referencing two images; replicas is a line
// people edit that has nothing to do with images.
func twoContainers(app, side string, replicas int) string {
	return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: " + strconv.Itoa(replicas) + "\n" +
		"  template:\n    spec:\n      containers:\n        - name: app\n          image: " + app + "\n        - name: side\n          image: " + side + "\n"
}

// declineNotes returns tend's comments on a PR that say it was declined.
func declineNotes(w *liveWorld, pr int) []fakegithub.Comment {
	var out []fakegithub.Comment
	for _, c := range w.gh.Comments(w.repo, pr) {
		if c.User == w.gh.BotLogin() && strings.Contains(c.Body, "<!-- tend:declined") {
			out = append(out, c)
		}
	}
	return out
}

// sendClosedAgain delivers the pull_request "closed" event of pr again:
// once as GitHub's Redeliver button does (same delivery id) and once as a
// fresh delivery.
func sendClosedAgain(t *testing.T, w *liveWorld, pr int) {
	t.Helper()
	var found bool
	for _, d := range w.gh.Deliveries() {
		if d.Event != "pull_request" || d.Action != "closed" || !strings.Contains(string(d.Body), `"number":`+strconv.Itoa(pr)+`,`) {
			continue
		}
		found = true
		if err := w.gh.Redeliver(d.ID); err != nil {
			t.Fatal(err)
		}
		if resp, err := w.tend.Deliver(context.Background(), "pull_request", e2e.NewDeliveryID(), d.Body); err != nil || resp.Status != 200 {
			t.Fatalf("deliver closed again: %+v %v", resp, err)
		}
	}
	if !found {
		t.Fatalf("the fake sent no pull_request closed event for #%d", pr)
	}
}

// declinedWorld is a repository with one images rule and the manifest
// deploy/app.yaml, whose PR tend opened and alice (a writer) closed
// unmerged. It returns the PR's branch and the closed PR.
func declinedWorld(t *testing.T, reg *testRegistry, manifest string) (*liveWorld, string, fakegithub.PullRequest) {
	t.Helper()
	w := newWorld(t, reg, worldOptions{repo: "acme/web", webhooks: true, files: map[string]string{
		".github/tend.yaml": imagesConfig, "deploy/app.yaml": manifest,
	}})
	w.gh.SetPermission("acme/web", "alice", "write")
	branch := botpr.BranchName(mustKey(t, "acme/web:pin-images:deploy/app.yaml"))
	w.enqueue(t, "acme/web:pin-images")
	w.settle(t)
	pr := w.prFor(t, branch)
	w.gh.ClosePR("acme/web", pr.Number, "alice")
	w.settle(t)
	return w, branch, pr
}

// What a person declines stays declined: resyncs, redelivered events,
// unrelated edits to the file and a restart bring no new PR and no second
// comment; a tag that moves brings a PR with only the new rewrite, and the
// declined one stays out of it after a restart.
func TestDeclinedImagesStayDeclined(t *testing.T) {
	reg := newRegistry(t)
	reg.push(t, "acme/app", "1.0", false)
	sideDigest := reg.push(t, "acme/side", "2", false)
	appRef, sideRef := reg.ref("acme/app", "1.0"), reg.ref("acme/side", "2")
	w, branch, first := declinedWorld(t, reg, twoContainers(appRef, sideRef, 2))
	notes := declineNotes(w, first.Number)
	if len(notes) != 1 {
		t.Fatalf("%d decline comments on the closed PR, want 1", len(notes))
	}
	for _, want := range []string{"declined", "acme/side:2@" + sideDigest, "/reconcile", "a tag that moves to a new digest"} {
		if !strings.Contains(notes[0].Body, want) {
			t.Errorf("the decline comment lacks %q:\n%s", want, notes[0].Body)
		}
	}

	// Redelivered events and a resync: nothing new.
	sendClosedAgain(t, w, first.Number)
	w.enqueue(t, "acme/web:pin-images")
	w.settle(t)
	// An unrelated edit to the file: still nothing.
	w.gh.Commit("acme/web", "main", map[string]string{"deploy/app.yaml": twoContainers(appRef, sideRef, 3)}, nil, "alice", "Scale up")
	w.settle(t)
	if n := len(w.gh.PullRequests("acme/web")); n != 1 || len(w.openPRs()) != 0 {
		t.Fatalf("%d PRs (%d open) after resyncs and an unrelated edit; want the declined one only", n, len(w.openPRs()))
	}
	if n := len(declineNotes(w, first.Number)); n != 1 {
		t.Errorf("%d decline comments after redeliveries and resyncs, want 1", n)
	}

	// The app's tag moves: a new PR proposes only that rewrite.
	movedApp := reg.push(t, "acme/app", "1.0", false)
	w.enqueue(t, "acme/web:pin-images")
	w.settle(t)
	open := w.openPRs()
	if len(open) != 1 || open[0].Number == first.Number || open[0].HeadRef != branch {
		t.Fatalf("after the app's tag moved, open PRs = %+v; want one new PR", open)
	}
	want := twoContainers(appRef+"@"+movedApp, sideRef, 3)
	if got, _ := w.gh.File("acme/web", branch, "deploy/app.yaml"); got != want {
		t.Errorf("the new PR proposes:\n%s\nwant only the new rewrite:\n%s", got, want)
	}
	if !strings.Contains(open[0].Body, "Not proposed, because people declined them") {
		t.Errorf("the new PR does not say what it leaves out:\n%s", open[0].Body)
	}

	// After a restart the declined rewrite is still left out, although the
	// newest PR no longer carries it: the decline lives with the key.
	w.restart(t)
	w.gh.Commit("acme/web", "main", map[string]string{"deploy/app.yaml": twoContainers(appRef, sideRef, 4)}, nil, "alice", "Scale up more")
	w.settle(t)
	w.enqueue(t, "acme/web:pin-images")
	w.settle(t)
	if got, _ := w.gh.File("acme/web", branch, "deploy/app.yaml"); got != twoContainers(appRef+"@"+movedApp, sideRef, 4) {
		t.Errorf("after a restart the PR proposes:\n%s", got)
	}
	if n := len(w.gh.PullRequests("acme/web")); n != 2 {
		t.Errorf("%d PRs at the end, want 2", n)
	}
}

// A writer's /reconcile on a declined PR withdraws the decline: the PR is
// reopened while its branch holds tend's commit, recreated otherwise.
// Others' /reconcile changes nothing. Each decline is commented on once.
func TestReconcileOnDeclinedPR(t *testing.T) {
	reg := newRegistry(t)
	digest := reg.push(t, "acme/app", "1.0", false)
	appRef := reg.ref("acme/app", "1.0")
	w, branch, pr := declinedWorld(t, reg, deployment(appRef))

	w.gh.AddComment("acme/web", pr.Number, "bob", "/reconcile")
	w.settle(t)
	if got := w.prFor(t, branch); got.State != "closed" {
		t.Fatalf("a reader's /reconcile reopened the declined PR")
	}

	ask := w.gh.AddComment("acme/web", pr.Number, "alice", "/reconcile")
	w.settle(t)
	reopened := w.prFor(t, branch)
	if reopened.State != "open" || reopened.HeadSHA != pr.HeadSHA {
		t.Fatalf("after a writer's /reconcile the PR is %s at %s; want reopened at %s", reopened.State, reopened.HeadSHA, pr.HeadSHA)
	}
	var reactions []string
	for _, c := range w.gh.Comments("acme/web", pr.Number) {
		for _, r := range c.Reactions {
			if r.User == w.gh.BotLogin() {
				reactions = append(reactions, fmt.Sprintf("%d:%s", c.ID, r.Content))
			}
		}
	}
	if want := fmt.Sprintf("%d:eyes,%d:+1", ask, ask); strings.Join(reactions, ",") != want {
		t.Errorf("tend's reactions = %v; want eyes and +1 on the accepted /reconcile only", reactions)
	}
	// Resyncs leave the reopened PR alone.
	w.enqueue(t, "acme/web:pin-images")
	w.settle(t)
	if got := w.prFor(t, branch); got.State != "open" || got.HeadSHA != pr.HeadSHA {
		t.Fatalf("a resync changed the reopened PR: %+v", got)
	}

	// Declined again: one more comment. Its branch deleted, a /reconcile
	// recreates it as a new PR. (Timestamps have whole seconds: a close in
	// the second of the first one would look like the same close.)
	fakegithub.WaitNextSecond()
	w.gh.ClosePR("acme/web", pr.Number, "alice")
	w.settle(t)
	if n := len(declineNotes(w, pr.Number)); n != 2 {
		t.Errorf("%d decline comments after two declines, want 2", n)
	}
	w.gh.DeleteBranch("acme/web", branch, "alice")
	w.gh.AddComment("acme/web", pr.Number, "alice", "/reconcile")
	w.settle(t)
	open := w.openPRs()
	if len(open) != 1 || open[0].Number == pr.Number {
		t.Fatalf("after /reconcile on the declined PR without its branch, open PRs = %+v; want a new one", open)
	}
	if got, _ := w.gh.File("acme/web", branch, "deploy/app.yaml"); got != deployment(appRef+"@"+digest) {
		t.Errorf("the recreated PR proposes:\n%s", got)
	}
}
