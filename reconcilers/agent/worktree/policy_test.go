package worktree

import (
	"context"
	"strings"
	"testing"
)

func TestCleanPath(t *testing.T) {
	cases := []struct {
		in, want string // want "" means refused
	}{
		{"docs/a.md", "docs/a.md"},
		{"a/./b", "a/b"},
		{"./a", "a"},
		{"a//b", "a/b"},
		{"a/b/", "a/b"},
		{"../x", ""},
		{"a/../../b", ""},
		{"a/../b", ""}, // stays inside, but ".." is refused outright
		{"..", ""},
		{"/etc/passwd", ""},
		{".git/config", ""},
		{".GIT/hooks/x", ""},
		{"x/.git/y", ""},
		{".git", ""},
		{".git./config", ""},         // NTFS drops trailing dots
		{".git /config", ""},         // and spaces
		{"GIT~1/config", ""},         // 8.3 short name
		{".g\u200cit/config", ""},    // HFS+ ignores zero-width non-joiner
		{".gitignore", ".gitignore"}, // not .git
		{".github/x.yml", ".github/x.yml"},
		{"a\x00b", ""},
		{"a\\b", ""},
		{"..\\x", ""},
		{"C:\\x", ""},
		{"a\nb", ""},
		{"", ""},
		{".", ""},
		{"./", ""},
		{"/", ""},
		{strings.Repeat("a", 256), ""},
		{strings.Repeat("a/", 600) + "b", ""},
		{strings.Repeat("x", 10000), ""},
		{"\xff\xfe", ""},
	}
	for _, c := range cases {
		got, err := CleanPath(c.in)
		if c.want == "" {
			if err == nil {
				t.Errorf("CleanPath(%q) = %q, want refusal", c.in, got)
			} else if !IsRefused(err) {
				t.Errorf("CleanPath(%q): error %v is not a refusal", c.in, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("CleanPath(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestMayWrite(t *testing.T) {
	type tc struct {
		path string
		ok   bool
	}
	cases := []struct {
		name string
		pol  Policy
		tcs  []tc
	}{
		{"default edits: the key's own path only", Policy{KeyPath: "docs/a.md"}, []tc{
			{"docs/a.md", true},
			{"docs/./a.md", true},
			{"docs/b.md", false},
			{"docs/a.md/x", false},
			{"README.md", false},
		}},
		{"issue key without edits: nothing", Policy{}, []tc{
			{"docs/a.md", false},
			{"README.md", false},
		}},
		{"edits **", Policy{Edits: []string{"**"}}, []tc{
			{"anything/at/all.txt", true},
			{"README.md", true},
			{".github/dependabot.yml", true},
			{".github/workflows/x.yml", false},
			{".GitHub/Workflows/x.yml", false},
			{".github/WORKFLOWS/deep/x.yml", false},
			{".github/workflows", false},
			{".git/config", false},
			{"../x", false},
			{"/etc/passwd", false},
		}},
		{"edits .github/**", Policy{Edits: []string{".github/**"}}, []tc{
			{".github/CODEOWNERS", true},
			{".github/workflows/ci.yml", false},
		}},
		{"edits naming workflows", Policy{Edits: []string{".github/workflows/*.yml"}}, []tc{
			{".github/workflows/x.yml", true},
			{".github/workflows/x.yaml", false},
			{".github/workflows/sub/x.yml", false},
			{".GitHub/Workflows/x.yml", false}, // the glob is case-sensitive
			{".github/CODEOWNERS", false},
		}},
		{"edits naming one workflow", Policy{Edits: []string{".github/workflows/ci.yml", "docs/**"}}, []tc{
			{".github/workflows/ci.yml", true},
			{".github/workflows/release.yml", false},
			{"docs/x/y.md", true},
		}},
		{"wildcard workflows segment is not explicit", Policy{Edits: []string{".github/work*/*.yml", ".github/{workflows,x}/*.yml"}}, []tc{
			{".github/workflows/ci.yml", false},
			{".github/x/a.yml", true},
		}},
		{"key path under workflows needs explicit edits", Policy{KeyPath: ".github/workflows/ci.yml"}, []tc{
			{".github/workflows/ci.yml", false},
		}},
		{"edits globs", Policy{KeyPath: "docs/a.md", Edits: []string{"docs/**", "*.md"}}, []tc{
			{"docs/a.md", true},
			{"docs/x/y/z.txt", true},
			{"README.md", true},
			{"sub/README.md", false},
			{"src/main.go", false},
			{"docs/../src/main.go", false},
			{"docs/.git/x", false},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, x := range c.tcs {
				err := c.pol.MayWrite(x.path)
				if (err == nil) != x.ok {
					t.Errorf("MayWrite(%q) = %v, want ok=%v", x.path, err, x.ok)
				}
				if err != nil && !IsRefused(err) {
					t.Errorf("MayWrite(%q): %v is not a refusal", x.path, err)
				}
			}
		})
	}
}

func TestPolicyValidate(t *testing.T) {
	if err := (Policy{Edits: []string{"docs/[a"}}).Validate(); err == nil {
		t.Error("invalid glob accepted")
	}
	if err := (Policy{KeyPath: "a/./b"}).Validate(); err == nil {
		t.Error("unclean key path accepted")
	}
	if _, err := New(context.Background(), NewMemSource(nil), Policy{Edits: []string{""}}); err == nil {
		t.Error("New accepted an empty glob")
	}
}

// linkRepo is a repository with a symbolic link to a directory, a link to
// a file, a submodule and an executable.
func linkRepo() *MemSource {
	src := NewMemSource(map[string]string{
		"docs/a.md":      "# A\n",
		"real/file.txt":  "real\n",
		"bin/run.sh":     "#!/bin/sh\n",
		"README.md":      "hello\n",
		"vendor/lib/x.c": "int x;\n",
	})
	src.Add("linkdir", ModeSymlink, []byte("real"))
	src.Add("docs/escape", ModeSymlink, []byte("../../etc"))
	src.Add("link.txt", ModeSymlink, []byte("real/file.txt"))
	src.Add("sub", ModeSubmodule, nil)
	src.Add("bin/run.sh", ModeExecutable, []byte("#!/bin/sh\n"))
	return src
}

// Writes that only the tree can judge: links, submodules, directories.
func TestTreeConfinement(t *testing.T) {
	ctx := context.Background()
	tree, err := New(ctx, linkRepo(), Policy{Edits: []string{"**"}})
	if err != nil {
		t.Fatal(err)
	}
	refused := []struct{ tool, path string }{
		{ToolWriteFile, "linkdir/file.txt"},   // through a link to a directory
		{ToolWriteFile, "linkdir/new.txt"},    // creating through it
		{ToolWriteFile, "docs/escape/passwd"}, // a link pointing outside
		{ToolWriteFile, "link.txt"},           // the link itself
		{ToolDeleteFile, "link.txt"},
		{ToolDeleteFile, "linkdir"},
		{ToolWriteFile, "sub"},
		{ToolWriteFile, "sub/x.txt"},
		{ToolEditFile, "linkdir/file.txt"},
		{ToolWriteFile, ".git/config"},
		{ToolWriteFile, ".github/workflows/ci.yml"},
		{ToolWriteFile, "../x"},
	}
	for _, r := range refused {
		a := map[string]any{"path": r.path, "content": "x", "old_text": "real", "new_text": "fake"}
		switch r.tool {
		case ToolDeleteFile:
			a = map[string]any{"path": r.path}
		case ToolWriteFile:
			delete(a, "old_text")
			delete(a, "new_text")
		case ToolEditFile:
			delete(a, "content")
		}
		res, err := tree.Call(ctx, r.tool, a)
		if err != nil {
			t.Fatalf("%s %s: %v", r.tool, r.path, err)
		}
		if res["error"] == nil {
			t.Errorf("%s %q was executed: %v", r.tool, r.path, res)
		}
	}
	for _, c := range tree.Trace() {
		if c.Outcome != OutcomeRefused {
			t.Errorf("trace: %+v, want refused", c)
		}
	}
	// Writing a file under a file, or over a directory, is an error too.
	for _, p := range []string{"README.md/x", "docs", "vendor/lib"} {
		res, _ := tree.Call(ctx, ToolWriteFile, map[string]any{"path": p, "content": "x"})
		if res["error"] == nil {
			t.Errorf("write %q accepted", p)
		}
	}
	if ch, _ := tree.Changes(ctx); len(ch) != 0 {
		t.Errorf("changes after refused calls: %+v", ch)
	}
	if st := tree.Stats(); st.Refused != len(refused) || st.Calls != len(refused)+3 {
		t.Errorf("stats %+v", st)
	}

	// Reads: links name their target, are never followed; submodules and
	// .git are refused.
	for p, want := range map[string]string{
		"link.txt":         `symbolic link to "real/file.txt"`,
		"linkdir/file.txt": "symbolic link, and links are not followed",
		"sub":              "submodule",
		"sub/README":       "submodule",
		".git/config":      ".git",
		".GIT/HEAD":        ".git",
		"../etc/passwd":    `".."`,
	} {
		res, err := tree.Call(ctx, ToolReadFile, map[string]any{"path": p})
		if err != nil {
			t.Fatal(err)
		}
		if e, _ := res["error"].(string); !strings.Contains(e, want) {
			t.Errorf("read %q: %v, want an error containing %q", p, res, want)
		}
	}
}

func TestDefaultEditsAndIssueKeys(t *testing.T) {
	ctx := context.Background()
	files := map[string]string{"docs/a.md": "a\n", "docs/b.md": "b\n"}
	tree, err := New(ctx, NewMemSource(files), Policy{KeyPath: "docs/a.md"})
	if err != nil {
		t.Fatal(err)
	}
	if res, _ := tree.Call(ctx, ToolWriteFile, map[string]any{"path": "docs/a.md", "content": "A\n"}); res["error"] != nil {
		t.Errorf("writing the key's path: %v", res)
	}
	if res, _ := tree.Call(ctx, ToolWriteFile, map[string]any{"path": "docs/b.md", "content": "B\n"}); res["error"] == nil {
		t.Error("wrote another path with default edits")
	}

	issue, err := New(ctx, NewMemSource(files), Policy{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []map[string]any{
		{"path": "docs/a.md", "content": "x"},
		{"path": "new.md", "content": "x"},
	} {
		if res, _ := issue.Call(ctx, ToolWriteFile, a); res["error"] == nil {
			t.Errorf("issue key without edits wrote %v", a)
		}
	}
	if res, _ := issue.Call(ctx, ToolDeleteFile, map[string]any{"path": "docs/a.md"}); res["error"] == nil {
		t.Error("issue key without edits deleted a file")
	}
	// Reading is still allowed.
	if res, _ := issue.Call(ctx, ToolReadFile, map[string]any{"path": "docs/b.md"}); res["output"] != "b\n" {
		t.Errorf("read: %v", res)
	}
}
