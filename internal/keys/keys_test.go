package keys

import (
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		in   string
		kind Kind
	}{
		{"acme/web", KindRepo},
		{"acme/web:pin-images", KindRule},
		{"acme/web:pin-images:deploy/app.yaml", KindPath},
		{"acme/web:docs:docs/a:b#c.md", KindPath},
		{"acme/web:docs#42", KindIssue},
		{"a-b/c.d_e:r1:Dockerfile", KindPath},
	} {
		k, err := Parse(tc.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.in, err)
		}
		if k.Kind() != tc.kind {
			t.Errorf("Parse(%q).Kind() = %v, want %v", tc.in, k.Kind(), tc.kind)
		}
		if got := k.String(); got != tc.in {
			t.Errorf("round trip %q -> %q", tc.in, got)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, in := range []string{
		"", "acme", "/web", "acme/", "acme/web:", "acme/web:Bad", "acme/web:r:",
		"acme/web:r#0", "acme/web:r#-1", "acme/web:r#01", "acme/web:r#x",
		"acme/web:r:/etc/passwd", "acme/web:r:a/../b", "acme/web:r:./a", "acme/web:r:a//b",
		"acme/web:r:.git/config", "acme/web:r:x/.GIT/y", "acme/web:r:a\x00b", "acme/web:r:a\nb",
		"acme/..:r", "ac me/web", "acme/web:r:" + strings.Repeat("a", MaxLen),
		"-acme/web:r", "acme/w/eb:r",
	} {
		if k, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %+v, want error", in, k)
		}
	}
}

func TestConstructorsCanonicalise(t *testing.T) {
	k, err := ForPath("Acme", "Web", "r", "Deploy/App.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := k.String(), "acme/web:r:Deploy/App.yaml"; got != want {
		t.Errorf("got %q, want %q (owner and repo lower-case, path kept)", got, want)
	}
	if got := k.RuleKey().String(); got != "acme/web:r" {
		t.Errorf("RuleKey = %q", got)
	}
	if got := k.RepoKey().String(); got != "acme/web" {
		t.Errorf("RepoKey = %q", got)
	}
	if _, err := ForIssue("acme", "web", "r", 0); err != nil {
		t.Errorf("issue 0 makes a rule key, not an error: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"acme/web", "acme/web:r", "acme/web:r:a/b", "acme/web:r#7", "a/b:c:d:e#f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := Parse(s)
		if err != nil {
			return
		}
		if k.String() != s {
			t.Fatalf("Parse(%q).String() = %q", s, k.String())
		}
		if err := k.Validate(); err != nil {
			t.Fatalf("parsed key does not validate: %v", err)
		}
	})
}
