package main

import (
	"github.com/tend-app/tend/internal/botpr"

	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/tend-app/tend/internal/e2e"
)

const imagesConfig = `version: 1
rules:
  - name: pin-images
    reconciler: images
    paths: ["deploy/*.yaml", "Dockerfile"]
`

func deployment(image string) string {
	return `# The web app.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web   # keep in sync with the Service
spec:
  template:
    spec:
      containers:
        - name: web
          image: "` + image + `"
          ports: [{containerPort: 8080}]
`
}

func dockerfile(base string) string {
	return "# Build the app, then run it.\nFROM --platform=$BUILDPLATFORM " + base + " AS build\nRUN make\n\nFROM build\nCMD [\"/app\"]\n"
}

// The whole vertical slice, driven only by GitHub's webhooks: a push ends in
// one PR per key with pinned digests and a completed check run; repeats
// change nothing; a moved tag updates the same PR; a merge resolves it; a
// declined PR is not proposed again until the desired state changes.
func TestImagesLifecycle(t *testing.T) {
	reg := newRegistry(t)
	appDigest := reg.push(t, "acme/app", "1.0", false)
	baseDigest := reg.push(t, "acme/base", "2", true)
	appRef, baseRef := reg.ref("acme/app", "1.0"), reg.ref("acme/base", "2")
	w := newWorld(t, reg, worldOptions{
		repo: "acme/web", webhooks: true,
		files: map[string]string{".github/tend.yaml": imagesConfig, "README.md": "web\n"},
	})
	ctx := context.Background()

	// A person pushes both files to main.
	w.gh.Commit("acme/web", "main", map[string]string{
		"deploy/app.yaml": deployment(appRef),
		"Dockerfile":      dockerfile(baseRef),
	}, nil, "alice", "Add the app")
	w.settle(t)

	prs := w.openPRs()
	if len(prs) != 2 {
		t.Fatalf("%d open PRs, want one per key (2): %+v", len(prs), prs)
	}
	appBranch := botpr.BranchName(mustKey(t, "acme/web:pin-images:deploy/app.yaml"))
	dockerBranch := botpr.BranchName(mustKey(t, "acme/web:pin-images:Dockerfile"))
	appPR, dockerPR := w.prFor(t, appBranch), w.prFor(t, dockerBranch)

	// Exactly the reference text changed, every other byte kept.
	gotApp, _ := w.gh.File("acme/web", appBranch, "deploy/app.yaml")
	if want := deployment(appRef + "@" + appDigest); gotApp != want {
		t.Errorf("deploy/app.yaml on the PR branch:\n%s\nwant:\n%s", gotApp, want)
	}
	gotDocker, _ := w.gh.File("acme/web", dockerBranch, "Dockerfile")
	if want := dockerfile(baseRef + "@" + baseDigest); gotDocker != want {
		t.Errorf("Dockerfile on the PR branch (want the index digest):\n%s\nwant:\n%s", gotDocker, want)
	}
	for _, pr := range []struct {
		pr  int
		key string
	}{{appPR.Number, "acme/web:pin-images:deploy/app.yaml"}, {dockerPR.Number, "acme/web:pin-images:Dockerfile"}} {
		p := prByNumber(t, w, pr.pr)
		if p.User != w.gh.BotLogin() || !strings.Contains(strings.Join(p.Labels, ","), "tend") {
			t.Errorf("PR #%d by %s with labels %v", p.Number, p.User, p.Labels)
		}
		if st, ok := botpr.ParseState(p.Body); !ok || st.Key != pr.key || st.Head != p.HeadSHA {
			t.Errorf("PR #%d state block = %+v", p.Number, st)
		}
		commits := w.gh.CommitsOn("acme/web", p.HeadRef)
		if !commits[0].Verified || commits[0].SHA != p.HeadSHA || len(commits[0].Parents) != 1 || commits[0].Parents[0] != p.BaseSHA {
			t.Errorf("PR #%d head commit = %+v (base %s)", p.Number, commits[0], p.BaseSHA)
		}
		runs := w.checkRunsOn(p.HeadSHA)
		if len(runs) != 1 || runs[0].Name != "tend / pin-images" || runs[0].Status != "completed" || runs[0].Conclusion != "success" || runs[0].ExternalID != pr.key {
			t.Errorf("PR #%d check runs = %+v", p.Number, runs)
		} else if !strings.Contains(runs[0].Output.Summary, "pins the container images") || !strings.Contains(runs[0].Output.Text, "deploy/app.yaml") && pr.pr == appPR.Number {
			t.Errorf("check run output does not explain the change: %+v", runs[0].Output)
		}
	}

	// The same push again, an installation event, and a resync: still one
	// PR per key, no new commits, no new check runs.
	heads := map[string]string{appBranch: appPR.HeadSHA, dockerBranch: dockerPR.HeadSHA}
	ruleChecks := func() int {
		n := 0
		for _, c := range w.gh.CheckRuns("acme/web") {
			if c.Name == "tend / pin-images" {
				n++
			}
		}
		return n
	}
	checks := ruleChecks()
	var lastPush []byte
	for _, d := range w.gh.Deliveries() {
		if d.Event == "push" && strings.Contains(string(d.Body), `"ref":"refs/heads/main"`) {
			lastPush = d.Body
		}
	}
	if lastPush == nil {
		t.Fatal("the fake sent no push for main")
	}
	if resp, err := w.tend.Deliver(ctx, "push", e2e.NewDeliveryID(), lastPush); err != nil || resp.Status != 200 || len(resp.Summary.Keys) != 2 {
		t.Fatalf("push again: %+v %v", resp, err)
	}
	installation := []byte(`{"action":"added","installation":{"id":7},"repositories_added":[{"full_name":"acme/web"}],"repositories_removed":[],"sender":{"login":"alice","type":"User"}}`)
	if resp, err := w.tend.Deliver(ctx, "installation_repositories", e2e.NewDeliveryID(), installation); err != nil || resp.Status != 200 {
		t.Fatalf("installation: %+v %v", resp, err)
	}
	w.enqueue(t, "acme/web:pin-images")
	w.settle(t)
	if n := len(w.gh.PullRequests("acme/web")); n != 2 {
		t.Errorf("%d PRs after repeats, want still 2", n)
	}
	for branch, head := range heads {
		if got, _ := w.gh.Branch("acme/web", branch); got != head {
			t.Errorf("branch %s moved from %s to %s with nothing to change", branch, head, got)
		}
	}
	if n := ruleChecks(); n != checks {
		t.Errorf("%d check runs after repeats, want %d", n, checks)
	}

	// The tag moves: the same PR is updated with the new digest.
	movedDigest := reg.push(t, "acme/app", "1.0", false)
	w.enqueue(t, "acme/web:pin-images")
	w.settle(t)
	updated := w.prFor(t, appBranch)
	if updated.Number != appPR.Number || updated.HeadSHA == appPR.HeadSHA || updated.State != "open" {
		t.Fatalf("after the tag moved: PR %+v (was #%d at %s)", updated, appPR.Number, appPR.HeadSHA)
	}
	if got, _ := w.gh.File("acme/web", appBranch, "deploy/app.yaml"); got != deployment(appRef+"@"+movedDigest) {
		t.Errorf("updated PR content:\n%s", got)
	}
	if commits := w.gh.CommitsOn("acme/web", appBranch); commits[0].Parents[0] != updated.BaseSHA {
		t.Errorf("the update is not one commit on the base")
	}
	if got, _ := w.gh.Branch("acme/web", dockerBranch); got != heads[dockerBranch] {
		t.Errorf("the Dockerfile PR moved though its image did not")
	}

	// A person merges the app PR: it is done, no new PR appears.
	if err := w.gh.MergePR("acme/web", appPR.Number, "alice"); err != nil {
		t.Fatal(err)
	}
	w.settle(t)
	w.enqueue(t, "acme/web:pin-images")
	w.settle(t)
	if n := len(w.gh.PullRequests("acme/web")); n != 2 {
		t.Errorf("%d PRs after the merge, want 2 (no new one)", n)
	}

	// A person closes the Dockerfile PR: it is not reopened or proposed again...
	w.gh.ClosePR("acme/web", dockerPR.Number, "alice")
	w.settle(t)
	w.enqueue(t, "acme/web:pin-images")
	w.settle(t)
	if open := w.openPRs(); len(open) != 0 {
		t.Errorf("a declined PR came back: %+v", open)
	}
	if n := len(w.gh.PullRequests("acme/web")); n != 2 {
		t.Errorf("%d PRs after declining, want 2", n)
	}
	// ...until the desired state changes.
	reg.push(t, "acme/base", "2", true)
	w.enqueue(t, "acme/web:pin-images")
	w.settle(t)
	if open := w.openPRs(); len(open) != 1 || open[0].HeadRef != dockerBranch || open[0].Number == dockerPR.Number {
		t.Errorf("after the base image moved, open PRs = %+v; want one new Dockerfile PR", open)
	}
}

func prByNumber(t *testing.T, w *liveWorld, n int) (out struct {
	Number                                int
	User, Body, HeadSHA, HeadRef, BaseSHA string
	Labels                                []string
}) {
	t.Helper()
	for _, pr := range w.gh.PullRequests(w.repo) {
		if pr.Number == n {
			out.Number, out.User, out.Body, out.HeadSHA, out.HeadRef, out.BaseSHA, out.Labels = pr.Number, pr.User, pr.Body, pr.HeadSHA, pr.HeadRef, pr.BaseSHA, pr.Labels
			return out
		}
	}
	t.Fatalf("no PR #%d", n)
	return out
}

var _ = fmt.Sprint
