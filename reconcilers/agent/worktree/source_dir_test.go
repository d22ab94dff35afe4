package worktree

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// A checkout as a Source: files with their modes, links as links (never
// followed, also not by reads that name a path through one), a nested
// repository as a submodule, .git left out; edits stay in the Tree.
func TestDirSource(t *testing.T) {
	ctx := context.Background()
	dir, outside := t.TempDir(), t.TempDir()
	writeFiles(t, dir, map[string]string{
		"docs/a.md": "# A\n", "run.sh": "#!/bin/sh\n", ".git/HEAD": "ref: refs/heads/main\n",
		"vendor/lib/.git": "gitdir: ../../.git/modules/lib\n", "vendor/lib/x.go": "package x\n",
	})
	writeFiles(t, outside, map[string]string{"secret": "s3cret\n"})
	if err := os.Chmod(filepath.Join(dir, "run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "escape")); err != nil {
		t.Fatal(err)
	}
	src, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()

	entries, err := src.Entries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Path: "docs/a.md", Mode: ModeFile, Size: 4},
		{Path: "escape", Mode: ModeSymlink, Size: int64(len(outside))},
		{Path: "run.sh", Mode: ModeExecutable, Size: 10},
		{Path: "vendor/lib", Mode: ModeSubmodule},
	}
	if !reflect.DeepEqual(entries, want) {
		t.Fatalf("entries\n%+v\nwant\n%+v", entries, want)
	}
	if _, err := src.Read(ctx, Entry{Path: "escape/secret", Mode: ModeFile, Size: 7}); err == nil {
		t.Error("a read through a link left the checkout")
	}
	if _, err := src.Read(ctx, Entry{Path: "docs/a.md", Mode: ModeFile, Size: 2}); err == nil {
		t.Error("a file whose size changed was read")
	}

	tree := newTree(t, src, Policy{Edits: []string{"**"}})
	if got := output(t, call(t, tree, "read_file", map[string]any{"path": "docs/a.md"})); got != "# A\n" {
		t.Errorf("read_file %q", got)
	}
	toolError(t, call(t, tree, "read_file", map[string]any{"path": "escape/secret"}), "symbolic link")
	toolError(t, call(t, tree, "write_file", map[string]any{"path": "vendor/lib/y.go", "content": "package x\n"}), "submodule")
	output(t, call(t, tree, "edit_file", map[string]any{"path": "docs/a.md", "old_text": "# A\n", "new_text": "# A\n\nMore.\n"}))
	output(t, call(t, tree, "delete_file", map[string]any{"path": "run.sh"}))
	changed, err := tree.Changes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != 2 || string(changed[0].Base) != "# A\n" || string(changed[0].Desired) != "# A\n\nMore.\n" || !changed[1].Delete {
		t.Errorf("changes %+v", changed)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "docs/a.md")); string(got) != "# A\n" {
		t.Errorf("the checkout was written: %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "run.sh")); err != nil {
		t.Errorf("the checkout lost run.sh: %v", err)
	}
}
