package worktree

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
)

var toolNames = []string{ToolListFiles, ToolReadFile, ToolSearch, ToolWriteFile, ToolEditFile, ToolDeleteFile}

func fuzzRepo() *MemSource {
	src := linkRepo()
	for p, c := range map[string]string{
		".github/workflows/ci.yml": "on: push\n",
		".github/CODEOWNERS":       "* @acme\n",
		"docs/guide/b.md":          "# B\nsee a.md\n",
		"docs/conf.yaml":           "a: 1\n",
		"Makefile":                 "all:\n\ttrue\n",
	} {
		src.Add(p, ModeFile, []byte(c))
	}
	src.Add("docs/img.png", ModeFile, []byte("\x89PNG\x00\x00"))
	src.Add("docs/ln", ModeSymlink, []byte("../.github"))
	return src
}

// FuzzCall throws arbitrary calls at the tools: nothing panics, no call
// fails with a Go error (the source is healthy), the overlay stays
// consistent, and no path outside the policy ever reaches Changes.
func FuzzCall(f *testing.F) {
	seeds := []struct {
		tool uint8
		args string
	}{
		{3, `{"path":"docs/new.md","content":"x"}`},
		{3, `{"path":"docs/ln/workflows/ci.yml","content":"x"}`},
		{3, `{"path":"linkdir/file.txt","content":"x"}`},
		{3, `{"path":".github/workflows/ci.yml","content":"x"}`},
		{3, `{"path":"docs/../README.md","content":"x"}`},
		{3, `{"path":"README.md","content":"x"}`},
		{3, `{"path":"docs/a.md/x","content":"x"}`},
		{3, `{"path":"docs","content":"x"}`},
		{4, `{"path":"docs/a.md","old_text":"A","new_text":"B"}`},
		{4, `{"path":"docs/guide/b.md","old_text":"a.md","new_text":"c.md"}`},
		{5, `{"path":"docs/a.md"}`},
		{5, `{"path":"docs/ln"}`},
		{1, `{"path":"docs/a.md","offset":2,"limit":1}`},
		{1, `{"path":"docs/img.png"}`},
		{1, `{"path":".git/config"}`},
		{0, `{"glob":"**"}`},
		{0, `{"path":"docs","glob":"**/*.md"}`},
		{2, `{"pattern":"(?i)a","glob":"docs/**"}`},
		{2, `{"pattern":"[","glob":"{"}`},
		{3, `{"path":3,"content":null}`},
		{4, `{"path":"docs/conf.yaml","old_text":"1","new_text":"[2"}`},
		{3, `not json at all`},
	}
	for i, s := range seeds {
		n := seeds[(i+1)%len(seeds)]
		f.Add(s.tool, s.args, n.tool, n.args)
	}
	f.Fuzz(func(t *testing.T, tool1 uint8, args1 string, tool2 uint8, args2 string) {
		ctx := context.Background()
		pol := Policy{KeyPath: "docs/a.md", Edits: []string{"docs/**", "*.md"}, MaxFiles: 5, MaxFileBytes: 4096, MaxTotalBytes: 8192}
		tree, err := New(ctx, fuzzRepo(), pol)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			tool uint8
			args string
		}{{tool1, args1}, {tool2, args2}} {
			name := toolNames[int(c.tool)%len(toolNames)]
			var a map[string]any
			if json.Unmarshal([]byte(c.args), &a) != nil {
				// Not an object: use the text as every string argument.
				a = map[string]any{"path": c.args}
				switch name {
				case ToolWriteFile:
					a["content"] = c.args
				case ToolEditFile:
					a["old_text"], a["new_text"] = c.args, c.args+"!"
				case ToolSearch:
					a = map[string]any{"pattern": c.args}
				case ToolListFiles:
					a = map[string]any{"glob": c.args}
				}
			}
			res, err := tree.Call(ctx, name, a)
			if err != nil {
				t.Fatalf("%s %v: Go error %v", name, a, err)
			}
			if (res["output"] == nil) == (res["error"] == nil) {
				t.Fatalf("%s %v: result %v has neither or both of output and error", name, a, res)
			}
		}
		checkInvariants(t, tree)
		ch, err := tree.Changes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range ch {
			if err := pol.MayWrite(c.Path); err != nil {
				t.Fatalf("change outside the policy: %s: %v", c.Path, err)
			}
			if err := tree.baseShape(c.Path); err != nil {
				t.Fatalf("change through a link: %s: %v", c.Path, err)
			}
		}
		for _, p := range tree.Check(ctx) {
			if strings.Contains(p, "may not be changed") || strings.Contains(p, "limit") {
				t.Fatalf("the tools let through what the gate refuses: %s", p)
			}
		}
	})
}

// checkInvariants recomputes the directory index from the view.
func checkInvariants(t *testing.T, tree *Tree) {
	t.Helper()
	tree.mu.Lock()
	defer tree.mu.Unlock()
	want := map[string]int{}
	view := tree.view()
	if !sort.StringsAreSorted(view) {
		t.Fatalf("view not sorted: %v", view)
	}
	for i, p := range view {
		if i > 0 && view[i-1] == p {
			t.Fatalf("view lists %q twice", p)
		}
		for j := 0; j < len(p); j++ {
			if p[j] == '/' {
				want[p[:j]]++
			}
		}
		if tree.dirs[p] > 0 {
			t.Fatalf("%q is both a file and a directory", p)
		}
	}
	if fmt.Sprint(want) != fmt.Sprint(tree.dirs) {
		t.Fatalf("directory index %v, want %v", tree.dirs, want)
	}
}
