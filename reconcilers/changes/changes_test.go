package changes

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/palantir/go-githubapp/githubapp"

	"github.com/tend-app/tend/internal/fakegithub"
	"github.com/tend-app/tend/keys"
)

func TestBranchName(t *testing.T) {
	for key, want := range map[string]string{
		"acme/web:pin:deploy/app.yaml": "tend/pin/deploy/app.yaml",
		"acme/web:docs#42":             "tend/docs/issue-42",
		"acme/web:pin:Dockerfile":      "tend/pin/Dockerfile",
	} {
		if got := BranchName(keys.MustParse(key)); got != want {
			t.Errorf("BranchName(%s) = %s, want %s", key, got, want)
		}
	}
	// Names Git refuses are cleaned, and cleaning never makes two keys share
	// a branch.
	seen := map[string]string{}
	for _, p := range []string{"a b.yaml", "a-b.yaml", "x/.hidden", "y.lock", "z..w", "q:r", "ä?*[x]", strings.Repeat("d/", 150) + "f"} {
		k := keys.MustParse("acme/web:r:" + p)
		b := BranchName(k)
		if other, dup := seen[b]; dup {
			t.Errorf("%q and %q share branch %s", p, other, b)
		}
		seen[b] = p
		if len(b) > maxBranchLen || strings.ContainsAny(b, " ~^:?*[\\") || strings.Contains(b, "..") || strings.Contains(b, "/.") || strings.HasSuffix(b, ".lock") || strings.HasSuffix(b, "/") || strings.HasSuffix(b, ".") {
			t.Errorf("BranchName(%q) = %q is not a valid ref name", p, b)
		}
	}
}

func FuzzBranchName(f *testing.F) {
	f.Add("deploy/app.yaml")
	f.Add("a b/..x/y.lock")
	f.Fuzz(func(t *testing.T, path string) {
		k, err := keys.ForPath("acme", "web", "r", path)
		if err != nil {
			return
		}
		b := BranchName(k)
		if len(b) > maxBranchLen || !utf8.ValidString(b) || strings.ContainsAny(b, " ~^:?*[\\\x00\x7f") || strings.Contains(b, "..") || strings.Contains(b, "@{") ||
			strings.Contains(b, "/.") || strings.Contains(b, "//") || strings.HasSuffix(b, ".lock") || strings.HasSuffix(b, "/") || strings.HasSuffix(b, ".") {
			t.Fatalf("BranchName(%q) = %q", path, b)
		}
		for _, seg := range strings.Split(b, "/") {
			if strings.HasSuffix(seg, ".lock") || strings.HasPrefix(seg, ".") {
				t.Fatalf("BranchName(%q) = %q has a bad component", path, b)
			}
		}
	})
}

func TestTruncate(t *testing.T) {
	long := strings.Repeat("é", 70000)
	got := truncate(long, maxOutputChars)
	if n := utf8.RuneCountInString(got); n != maxOutputChars || !strings.HasSuffix(got, "(truncated)") {
		t.Errorf("truncate: %d chars", n)
	}
	if truncate("short", 10) != "short" {
		t.Errorf("short strings are kept")
	}
}

func TestRenderBodyKeepsState(t *testing.T) {
	c := &Change{Key: keys.MustParse("acme/web:r:a"), Rule: "r", Summary: strings.Repeat("x", 70000), Fixes: 7}
	body := renderBody(c, State{Key: "acme/web:r:a", Hash: "h"})
	if utf8.RuneCountInString(body) > maxBodyChars {
		t.Errorf("body has %d chars", utf8.RuneCountInString(body))
	}
	if st, ok := ParseState(body); !ok || st.Hash != "h" {
		t.Errorf("the state block was cut")
	}
	if !strings.Contains(body, "Fixes #7") {
		t.Errorf("no Fixes line")
	}
}

// Check runs respect GitHub's limits: 120 annotations go 50 per request,
// long output is truncated, and the fake (which enforces the limits like
// GitHub) accepts every request.
func TestPostCheckLimits(t *testing.T) {
	gh := fakegithub.New(t)
	gh.AddInstallation(1, "acme")
	gh.AddRepoWithFiles(1, "acme/web", "main", map[string]string{"a.txt": strings.Repeat("line\n", 200)})
	cfg := gh.AppConfig()
	cc, err := githubapp.NewDefaultCachingClientCreator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	client, err := cc.NewInstallationClient(1)
	if err != nil {
		t.Fatal(err)
	}
	head, _ := gh.Branch("acme/web", "main")
	var anns []Annotation
	for i := 1; i <= 120; i++ {
		anns = append(anns, Annotation{Path: "a.txt", StartLine: i, Level: "warning", Message: fmt.Sprintf("line %d", i)})
	}
	gh.ResetRequests()
	err = PostCheck(context.Background(), client, "acme", "web", Check{
		Name: "tend / r", HeadSHA: head, ExternalID: "acme/web:r:a.txt", Conclusion: "neutral",
		Title: strings.Repeat("t", 400), Summary: strings.Repeat("s", 100000), Text: strings.Repeat("x", 100000),
		Annotations: anns, Reconcilable: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	var checkReqs []string
	for _, r := range gh.Requests() {
		if strings.HasPrefix(r.Operation, "checks/") {
			checkReqs = append(checkReqs, r.Operation)
		}
	}
	if strings.Join(checkReqs, ",") != "checks/create,checks/update,checks/update" {
		t.Errorf("requests for 120 annotations: %v; want a create and 2 updates", checkReqs)
	}
	runs := gh.CheckRuns("acme/web")
	if len(runs) != 1 || len(runs[0].Actions) != 1 || runs[0].Conclusion != "neutral" {
		t.Fatalf("check runs = %+v", runs)
	}
	if n := utf8.RuneCountInString(runs[0].Output.Summary); n > maxOutputChars {
		t.Errorf("summary has %d chars", n)
	}
}
