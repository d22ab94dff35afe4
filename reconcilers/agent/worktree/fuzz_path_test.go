package worktree

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bmatcuk/doublestar/v4"
)

// FuzzMayWrite checks the path decisions alone: a path CleanPath accepts
// is clean, relative, outside .git and stable under a second cleaning; a
// write MayWrite allows matches an edits glob and never reaches
// .github/workflows unless the glob names it.
func FuzzMayWrite(f *testing.F) {
	for _, s := range [][2]string{
		{"docs/a.md", "docs/**"},
		{"docs/../x", "**"},
		{".GIT/config", "**"},
		{".g\u200cit/x", "**"},
		{"docs\uff0fa.md", "docs/**"},
		{"notes/cafe\u0301.md", "notes/caf\u00e9.md"},
		{".github/workflows/ci.yml", ".github/**"},
		{".GitHub/Workflows/x.yml", ".github/workflows/*.yml"},
		{"a//b/./c/", "a/*/c"},
		{"/etc/passwd", "**"},
		{"a\x00b", "**"},
		{"git~1/x", "*/x"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, p, glob string) {
		c, err := CleanPath(p)
		if err != nil {
			if !IsRefused(err) {
				t.Fatalf("CleanPath(%q): %v is not a refusal", p, err)
			}
		} else {
			checkClean(t, p, c)
		}
		pol := Policy{Edits: []string{glob}}
		if pol.Validate() != nil {
			return
		}
		if err := pol.MayWrite(p); err != nil {
			if !IsRefused(err) || err.Error() == "" {
				t.Fatalf("MayWrite(%q): %v is not an explained refusal", p, err)
			}
			return
		}
		if ok, _ := doublestar.Match(glob, c); !ok {
			t.Fatalf("MayWrite(%q) allowed %q outside the glob %q", p, c, glob)
		}
		if underWorkflows(c) && !namesWorkflows(glob) {
			t.Fatalf("MayWrite(%q) allowed a workflow through the glob %q", p, glob)
		}
	})
}

func checkClean(t *testing.T, p, c string) {
	t.Helper()
	if again, err := CleanPath(c); err != nil || again != c {
		t.Fatalf("CleanPath(%q) = %q, but CleanPath(%q) = %q, %v", p, c, c, again, err)
	}
	if c == "" || strings.HasPrefix(c, "/") || len(c) > maxPathBytes || !utf8.ValidString(c) || strings.ContainsAny(c, "\x00\\") {
		t.Fatalf("CleanPath(%q) = %q", p, c)
	}
	for _, seg := range strings.Split(c, "/") {
		if seg == "" || seg == "." || seg == ".." || isDotGit(seg) || len(seg) > maxSegmentBytes {
			t.Fatalf("CleanPath(%q) = %q has segment %q", p, c, seg)
		}
	}
}
