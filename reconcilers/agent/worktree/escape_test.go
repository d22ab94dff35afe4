package worktree

import (
	"context"
	"strings"
	"testing"
)

// escapeRepo is a repository laid out to tempt the tools out of their
// bounds: links pointing outside edits and outside the repository, names
// that differ only in case or Unicode normalization from paths outside
// edits, and a submodule.
func escapeRepo() *MemSource {
	src := NewMemSource(map[string]string{
		"docs/a.md":               "# A\n",
		"secret/key.txt":          "outside edits\n",
		"Docs2/private.md":        "outside edits, differs from docs2/ only in case\n",
		"notes/cafe\u0301.md":     "NFD name, outside edits\n",
		"README.md":               "outside edits\n",
		".github/workflows/x.yml": "on: push\n",
	})
	src.Add("docs/out", ModeSymlink, []byte("../secret"))        // inside the repo, outside edits
	src.Add("docs/root", ModeSymlink, []byte("../../../../etc")) // outside the repository
	src.Add("docs/abs", ModeSymlink, []byte("/etc"))             // absolute
	src.Add("docs/Up", ModeSymlink, []byte("../secret"))         // case look-alike target for docs/up
	src.Add("docs/caf\u00e9", ModeSymlink, []byte("../secret"))  // NFC link; docs/cafe\u0301/ is its NFD twin
	src.Add("docs/mod", ModeSubmodule, nil)
	return src
}

// escapePolicy lets the run write under docs/ and docs2/, one NFC-named
// note, and readme.md — each a name that collides with something outside
// edits on a case- or normalization-insensitive checkout.
var escapePolicy = Policy{Edits: []string{"docs/**", "docs2/**", "notes/caf\u00e9.md", "readme.md", "**/*.txt"}}

// TestPathEscapes throws every known way out of the edits globs at the
// write tools: each is refused, the model is told why in words, the
// trace records a refusal, and no change outside edits exists afterwards.
func TestPathEscapes(t *testing.T) {
	cases := []struct {
		name, tool, path, want string
	}{
		{"dot-dot", ToolWriteFile, "docs/../secret/key.txt", `contains ".."`},
		{"dot-dot at start", ToolWriteFile, "../outside.md", `contains ".."`},
		{"dot-dot deep", ToolEditFile, "docs/../../../etc/passwd", `contains ".."`},
		{"absolute", ToolWriteFile, "/etc/passwd", "is absolute"},
		{"absolute inside", ToolWriteFile, "/docs/a.md", "is absolute"},
		{"backslash", ToolWriteFile, `docs\..\secret\key.txt`, "backslash"},
		{"dot git", ToolWriteFile, ".git/config", "inside .git"},
		{"dot git upper", ToolWriteFile, ".GIT/hooks/pre-commit", "inside .git"},
		{"dot git nested", ToolWriteFile, "docs/.git/config", "inside .git"},
		{"dot git ntfs dot", ToolWriteFile, "docs/.git./config", "inside .git"},
		{"dot git 8.3", ToolWriteFile, "docs/GIT~1/config", "inside .git"},
		{"dot git hfs ignorable", ToolWriteFile, "docs/.g\u200dit/config", "inside .git"},
		{"link inside repo, outside edits", ToolWriteFile, "docs/out/key.txt", "symbolic link"},
		{"link outside repo", ToolWriteFile, "docs/root/passwd.txt", "symbolic link"},
		{"absolute link", ToolWriteFile, "docs/abs/passwd.txt", "symbolic link"},
		{"overwrite link", ToolWriteFile, "docs/out", "symbolic link"},
		{"delete link", ToolDeleteFile, "docs/root", "symbolic link"},
		{"edit through link", ToolEditFile, "docs/out/key.txt", "symbolic link"},
		{"link in other case", ToolWriteFile, "docs/up/key.txt", "differs only in case or Unicode normalization"},
		{"link in NFD", ToolWriteFile, "docs/cafe\u0301/key.txt", "differs only in case or Unicode normalization"},
		{"submodule", ToolWriteFile, "docs/mod/x.md", "submodule"},
		{"directory in other case", ToolWriteFile, "docs2/private.md", "differs only in case or Unicode normalization"},
		{"file in other case", ToolWriteFile, "readme.md", "differs only in case or Unicode normalization"},
		{"NFC twin of an NFD file outside edits", ToolWriteFile, "notes/caf\u00e9.md", "differs only in case or Unicode normalization"},
		{"NFD name outside edits", ToolWriteFile, "notes/cafe\u0301.md", "outside what this run may write"},
		{"case variant outside edits", ToolWriteFile, "DOCS/a.md", "outside what this run may write"},
		{"full-width slash", ToolWriteFile, "docs\uff0fa.md", "outside what this run may write"},
		{"division slash", ToolWriteFile, "secret\u2215key.md", "outside what this run may write"},
		{"workflows in other case", ToolWriteFile, ".GitHub/Workflows/x.yml", "outside what this run may write"},
		{"workflows via txt glob", ToolWriteFile, ".github/workflows/x.txt", ".github/workflows"},
		{"NUL", ToolWriteFile, "docs/a.md\x00../../etc/passwd", "NUL"},
		{"control character", ToolWriteFile, "docs/a\n.md", "control character"},
		{"invalid UTF-8", ToolWriteFile, "docs/\xc0\xaf.md", "UTF-8"},
		{"long segment", ToolWriteFile, "docs/" + strings.Repeat("a", 300) + ".md", "component longer than"},
		{"long path", ToolWriteFile, "docs/" + strings.Repeat("a/", 600) + "b.md", "the limit is 1024"},
		{"huge path", ToolWriteFile, strings.Repeat("docs/", 100_000), "the limit is"},
		{"empty", ToolWriteFile, "", "path"},
		{"root", ToolWriteFile, "docs/..", `contains ".."`},
	}
	ctx := context.Background()
	tree := newTree(t, escapeRepo(), escapePolicy)
	for _, c := range cases {
		args := map[string]any{"path": c.path}
		switch c.tool {
		case ToolWriteFile:
			args["content"] = "pwned\n"
		case ToolEditFile:
			args["old_text"], args["new_text"] = "outside", "pwned"
		}
		res := call(t, tree, c.tool, args)
		e, _ := res["error"].(string)
		if e == "" || res["output"] != nil {
			t.Errorf("%s: %s %q was executed: %v", c.name, c.tool, c.path, res)
			continue
		}
		if !strings.Contains(e, c.want) {
			t.Errorf("%s: error %q does not explain the refusal (want %q)", c.name, e, c.want)
		}
		if len(e) > 2000 {
			t.Errorf("%s: explanation is %d bytes; the model should get a short answer", c.name, len(e))
		}
	}
	for _, c := range tree.Trace() {
		if c.Outcome != OutcomeRefused && c.Path != "" {
			t.Errorf("trace %+v: want refused", c)
		}
	}
	if ch, err := tree.Changes(ctx); err != nil || len(ch) != 0 {
		t.Fatalf("changes after refused calls: %+v, %v", ch, err)
	}
	if problems := tree.Check(ctx); len(problems) != 0 {
		t.Fatalf("gate: %v", problems)
	}
}

// TestPathEscapesStillAllowLegitimateWrites makes sure the suite above is
// not passing because everything is refused: writes inside edits with
// ordinary and Unicode names succeed, and a rename that
// changes only case works once the old name is gone.
func TestPathEscapesStillAllowLegitimateWrites(t *testing.T) {
	ctx := context.Background()
	tree := newTree(t, escapeRepo(), escapePolicy)
	for _, p := range []string{"docs/a.md", "docs/new/b.md", "docs/caf\u00e9-2.md", "docs/\uff0e\uff0e\uff0fsecret.md"} {
		if res := call(t, tree, ToolWriteFile, map[string]any{"path": p, "content": "ok\n"}); res["error"] != nil {
			t.Errorf("write %q refused: %v", p, res["error"])
		}
	}
	// A case-only rename: delete, then create under the new case.
	call(t, tree, ToolWriteFile, map[string]any{"path": "docs/Rename.md", "content": "r\n"})
	if res := call(t, tree, ToolWriteFile, map[string]any{"path": "docs/rename.md", "content": "r\n"}); res["error"] == nil {
		t.Error("a second name differing only in case was created")
	}
	call(t, tree, ToolDeleteFile, map[string]any{"path": "docs/Rename.md"})
	if res := call(t, tree, ToolWriteFile, map[string]any{"path": "docs/rename.md", "content": "r\n"}); res["error"] != nil {
		t.Errorf("case-only rename refused: %v", res["error"])
	}
	ch, err := tree.Changes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range ch {
		if err := escapePolicy.MayWrite(c.Path); err != nil {
			t.Errorf("change outside edits: %s: %v", c.Path, err)
		}
		got = append(got, c.Path)
	}
	want := "docs/a.md docs/caf\u00e9-2.md docs/new/b.md docs/rename.md docs/\uff0e\uff0e\uff0fsecret.md"
	if strings.Join(got, " ") != want {
		t.Errorf("changes %q, want %q", strings.Join(got, " "), want)
	}
}
