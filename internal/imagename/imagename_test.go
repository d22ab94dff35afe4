package imagename

import (
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
)

func TestCanonical(t *testing.T) {
	for in, want := range map[string]string{
		"nginx":                         "index.docker.io/library/nginx",
		"docker.io/library/nginx":       "index.docker.io/library/nginx",
		"index.docker.io/library/nginx": "index.docker.io/library/nginx",
		"ghcr.io/Acme/Web":              "", // registries refuse upper case in repositories
		"ghcr.io/acme/web":              "ghcr.io/acme/web",
		"registry.test:5000/team/app":   "registry.test:5000/team/app",
		"":                              "",
		"nginx:1.25":                    "", // a tag is not part of a repository name
		"GHCR.IO/acme/web":              "ghcr.io/acme/web",
	} {
		if got := Canonical(in); got != want {
			t.Errorf("Canonical(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzCanonical checks the one spelling both sides of the image index
// agree on: canonicalising never panics, a canonical name is a valid
// repository name, and canonicalising it again changes nothing (so a name
// the handler derives from a package event matches the one the reconciler
// indexed).
func FuzzCanonical(f *testing.F) {
	for _, s := range []string{"nginx", "ghcr.io/acme/web", "localhost:5000/a/b", "index.docker.io/library/redis", "a/b/c/d", "gcr.io/p/x@sha256:" + string(make([]byte, 8)), "Ü/x", "x:99999999999999999999/y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		c := Canonical(in)
		if c == "" {
			return
		}
		if _, err := name.NewRepository(c); err != nil {
			t.Fatalf("Canonical(%q) = %q, which is not a repository name: %v", in, c, err)
		}
		if again := Canonical(c); again != c {
			t.Fatalf("Canonical is not idempotent: %q → %q → %q", in, c, again)
		}
	})
}
