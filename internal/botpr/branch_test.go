package botpr

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tend-app/tend/internal/keys"
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

func TestBranchKeys(t *testing.T) {
	k := keys.MustParse("acme/web:pin:deploy/app.yaml")
	if got := BranchKeys("Acme", "Web", BranchName(k)); len(got) != 1 || got[0] != k {
		t.Errorf("BranchKeys(BranchName(%s)) = %v", k, got)
	}
	if got := BranchKeys("acme", "web", "tend/docs/issue-7"); len(got) != 2 || got[0].String() != "acme/web:docs#7" || got[1].String() != "acme/web:docs:issue-7" {
		t.Errorf("both readings of tend/docs/issue-7: %v", got)
	}
	for _, branch := range []string{"main", "tend/", "tend/pin", "tend/pin/", "tend/Pin/x", "tend/pin/a b.yaml", "tend/pin/x/../y"} {
		if ks := BranchKeys("acme", "web", branch); len(ks) != 0 {
			t.Errorf("BranchKeys(%q) = %v, want none", branch, ks)
		}
	}
}
