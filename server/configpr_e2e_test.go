package main

import (
	"strings"
	"testing"
	"time"

	"github.com/tend-app/tend/internal/fakegithub"
	"github.com/tend-app/tend/internal/testwait"
)

// A pull request that changes .github/tend.yaml gets "tend / config" on its
// head commit before it merges: success with each rule's match count, or
// failure with annotations at line and column. A pull request that leaves
// the config alone gets none.
func TestConfigCheckOnPullRequest(t *testing.T) {
	reg := newRegistry(t)
	w := newWorld(t, reg, worldOptions{
		repo: "acme/web", webhooks: true,
		files: map[string]string{".github/tend.yaml": imagesConfig, "deploy/a.yaml": "kind: A\n", "deploy/b.yaml": "kind: B\n", "Dockerfile": "FROM scratch\n"},
	})
	configRun := func(sha string) (fakegithub.CheckRun, bool) {
		for _, c := range w.checkRunsOn(sha) {
			if c.Name == "tend / config" {
				return c, true
			}
		}
		return fakegithub.CheckRun{}, false
	}
	open := func(branch string, files map[string]string) string {
		sha := w.gh.Commit("acme/web", branch, files, nil, "alice", "change "+branch)
		if _, err := w.gh.OpenPR("acme/web", branch, "main", "Change "+branch, "", "alice"); err != nil {
			t.Fatal(err)
		}
		return sha
	}

	good := open("more-rules", map[string]string{".github/tend.yaml": imagesConfig + "  - name: only-a\n    reconciler: images\n    paths: [deploy/a.yaml]\n"})
	var run fakegithub.CheckRun
	testwait.For(t, 30*time.Second, func() bool {
		var ok bool
		run, ok = configRun(good)
		return ok && run.Status == "completed"
	}, "the config check on a valid change")
	if run.Conclusion != "success" || !strings.Contains(run.Output.Summary, "| `pin-images` | images | `deploy/*.yaml`, `Dockerfile` | 3 |") || !strings.Contains(run.Output.Summary, "| `only-a` | images | `deploy/a.yaml` | 1 |") {
		t.Errorf("valid config check: %s %q\n%s", run.Conclusion, run.Output.Title, run.Output.Summary)
	}

	bad := open("broken", map[string]string{".github/tend.yaml": "version: 1\nrules:\n  - name: x\n    reconciler: magic\n    paths: [a]\n"})
	testwait.For(t, 30*time.Second, func() bool {
		var ok bool
		run, ok = configRun(bad)
		return ok && run.Status == "completed"
	}, "the config check on an invalid change")
	if run.Conclusion != "failure" || len(run.Output.Annotations) != 1 {
		t.Fatalf("invalid config check: %s %+v", run.Conclusion, run.Output.Annotations)
	}
	if a := run.Output.Annotations[0]; a.Path != ".github/tend.yaml" || a.StartLine != 4 || a.EndLine != 4 || a.StartColumn != 17 || !strings.Contains(a.Message, `unknown reconciler "magic"`) {
		t.Errorf("annotation = %+v", a)
	}

	other := open("readme", map[string]string{"README.md": "hello\n"})
	w.settle(t)
	if _, ok := configRun(other); ok {
		t.Error("a pull request that leaves the config alone got a config check")
	}
}
