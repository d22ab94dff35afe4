package worktree

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"
)

// hostilePaths are path arguments a model (or a prompt injected into what
// it reads) may try, to write outside the rule's edits or the repository.
var hostilePaths = []string{
	// Climbing out.
	"../README.md", "docs/../README.md", "docs/../../etc/passwd", "docs/../../../x", "..", "docs/..",
	"docs/./../README.md", "./../README.md",
	// Absolute paths.
	"/etc/passwd", "/docs/a.md", "//docs/a.md", "/README.md", "C:/Windows/x", `C:\Windows\x`,
	// The repository's metadata, in any case and disguise.
	".git/config", "docs/.git/config", ".GIT/config", "docs/.GIT/hooks/pre-commit", ".Git/HEAD",
	"docs/.git/", "docs/.git\u200c/config", "docs/.gi\u200dt/config", "docs/.git\ufeff/config", "docs/.git./config", "docs/.git /config",
	// Workflows (never writable unless the edits name them).
	".github/workflows/ci.yml", ".GITHUB/workflows/x.yml",
	// Separators that are not "/".
	`docs\..\README.md`, `..\README.md`, "docs\uff0f..\uff0fREADME.md", "\uff0e\uff0e/README.md", "docs\u2215..\u2215README.md",
	// Unicode look-alikes of the edits' directory (NFC/NFD, full-width).
	"\uff44ocs/a.md", "d\u200bocs/a.md", "DOCS/a.md", "do\u0063\u0327s/a.md",
	// Links in the tree: to a file outside edits, out of the repository,
	// to an absolute path, and through a link to a directory.
	"docs/link", "docs/out/passwd", "docs/out", "docs/abs", "docs/dirlink/file.txt", "docs/dirlink/new.md",
	// Bytes that are not a path.
	"docs/a\x00.md", "docs/a.md\x00../../README.md", "\x00", "docs/\xff\xfe.md", "",
	// Very long.
	"docs/" + strings.Repeat("a", 300) + ".md", "docs/" + strings.Repeat("a/", 600) + "x.md", strings.Repeat("../", 2000) + "etc/passwd",
}

// The path-escape suite: every hostile path through every write tool.
// Nothing is written outside the rule's edits (the change set holds only
// paths under docs/ that the policy allows, and no link or metadata), every
// refusal is explained to the model in words, and the acceptance gate finds
// nothing to refuse in what was written.
func TestPathEscapeSuite(t *testing.T) {
	ctx := context.Background()
	src := NewMemSource(map[string]string{
		"docs/a.md":         "# A\nreal\n",
		"README.md":         "real\n",
		".github/tend.yaml": "version: 1\n",
		"real/file.txt":     "real\n",
	})
	src.Add("docs/link", ModeSymlink, []byte("../README.md"))
	src.Add("docs/out", ModeSymlink, []byte("../../../etc"))
	src.Add("docs/abs", ModeSymlink, []byte("/etc/passwd"))
	src.Add("docs/dirlink", ModeSymlink, []byte("../real"))
	pol := Policy{KeyPath: "docs/a.md", Edits: []string{"docs/**"}}
	tree := newTree(t, src, pol)

	refused, accepted := 0, 0
	for _, p := range hostilePaths {
		for _, tool := range []string{ToolWriteFile, ToolEditFile, ToolDeleteFile, ToolReadFile} {
			args := map[string]any{"path": p}
			switch tool {
			case ToolWriteFile:
				args["content"] = "pwned\n"
			case ToolEditFile:
				args["old_text"], args["new_text"] = "real", "pwned"
			}
			res, err := tree.Call(ctx, tool, args)
			if err != nil {
				t.Fatalf("%s %q: Go error %v: tool problems must go back to the model", tool, p, err)
			}
			if msg, isErr := res["error"].(string); isErr {
				refused++
				if len(strings.TrimSpace(msg)) < 10 {
					t.Errorf("%s %q: refusal %q does not explain itself", tool, p, msg)
				}
				continue
			}
			if tool != ToolReadFile {
				accepted++
			}
		}
	}
	// The control: writes the edits allow do happen (the suite is not
	// passing because every write fails).
	for _, p := range []string{"docs/ok.md", "docs/sub/b.md", "docs/e\u0301.md"} {
		if res := call(t, tree, ToolWriteFile, map[string]any{"path": p, "content": "fine\n"}); res["error"] != nil {
			t.Errorf("control write %q refused: %v", p, res["error"])
		}
	}
	ch, err := tree.Changes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	outside := 0
	for _, c := range ch {
		bad := !strings.HasPrefix(c.Path, "docs/") || strings.Contains(c.Path, "\x00") || !utf8.ValidString(c.Path) ||
			strings.Contains(strings.ToLower(c.Path), ".git") || pol.MayWrite(c.Path) != nil ||
			c.Path == "docs/link" || strings.HasPrefix(c.Path, "docs/out") || c.Path == "docs/abs" || strings.HasPrefix(c.Path, "docs/dirlink")
		if bad {
			outside++
			t.Errorf("a write escaped: %q", c.Path)
		}
	}
	if len(ch) != 3 {
		t.Errorf("%d files changed, want the 3 control writes: %+v", len(ch), ch)
	}
	if problems := tree.Check(ctx); len(problems) != 0 {
		t.Errorf("the gate refuses what the tools let through: %v", problems)
	}
	t.Logf("%d hostile paths x 4 tools: %d calls refused with an explanation, %d hostile write calls accepted, %d files changed (the 3 control writes), %d outside the edits",
		len(hostilePaths), refused, accepted, len(ch), outside)
}
