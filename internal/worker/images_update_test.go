package worker_test

import (
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/crane"
	"github.com/google/go-containerregistry/pkg/registry"
)

// TestImagesRuleUpdateAndIgnore runs a rule with `update: minor` and an
// ignore glob through the worker: the repository's config reaches the
// reconciler, the tag moves within its family, the ignored image stays,
// and the PR body and check run say what moved from what to what.
func TestImagesRuleUpdateAndIgnore(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, tag := range []string{"1.26-alpine", "1.27-alpine", "1.28", "1.28-alpine", "2.0-alpine", "1.29.0-rc.1"} {
		pushImage(t, host, "acme/web:"+tag)
	}
	pushImage(t, host, "vendor/tool:1.0")
	pushImage(t, host, "vendor/tool:1.1")
	want, err := crane.Digest(host + "/acme/web:1.28-alpine")
	if err != nil {
		t.Fatal(err)
	}
	cfg := "version: 1\nrules:\n  - name: pin\n    reconciler: images\n    paths: [\"deploy/*.yaml\"]\n" +
		"    update: minor\n    ignore: [\"" + host + "/vendor/*\"]\n"
	b := newBench(t, map[string]string{
		".github/tend.yaml": cfg,
		"deploy/app.yaml":   "containers:\n  - image: " + host + "/acme/web:1.26-alpine # web\n  - image: " + host + "/vendor/tool:1.0\n",
	})
	res, _ := b.run(t, "acme/web:pin:deploy/app.yaml")
	if res.Outcome != "pr-opened" {
		t.Fatalf("outcome %s", res.Outcome)
	}
	prs := b.gh.PullRequests("acme/web")
	if len(prs) != 1 {
		t.Fatalf("%d PRs", len(prs))
	}
	got, _ := b.gh.File("acme/web", prs[0].HeadRef, "deploy/app.yaml")
	wantFile := "containers:\n  - image: " + host + "/acme/web:1.28-alpine@" + want + " # web\n  - image: " + host + "/vendor/tool:1.0\n"
	if got != wantFile {
		t.Errorf("file on the PR branch:\n%s\nwant:\n%s", got, wantFile)
	}
	row := "| `" + host + "/acme/web` | `1.26-alpine` | `1.28-alpine` `" + want[:len("sha256:")+12] + "` | 2 |"
	if !strings.Contains(prs[0].Body, row) || !strings.HasPrefix(prs[0].Title, "Update container images") {
		t.Errorf("PR %q body lacks the from → to row %q:\n%s", prs[0].Title, row, prs[0].Body)
	}
	var text string
	for _, cr := range b.gh.CheckRuns("acme/web") {
		if cr.Name == "tend / pin" {
			text = cr.Output.Summary + "\n" + cr.Output.Text
		}
	}
	if !strings.Contains(text, row) || !strings.Contains(text, "ignored (the rule's ignore list has") {
		t.Errorf("check run lacks the change or the ignore note:\n%s", text)
	}
}
