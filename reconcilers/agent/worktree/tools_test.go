package worktree

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tend-app/tend/reconcilers/changes"
)

func newTree(t *testing.T, src Source, pol Policy) *Tree {
	t.Helper()
	tree, err := New(context.Background(), src, pol)
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

// call runs a tool and fails the test on a Go error.
func call(t *testing.T, tree *Tree, name string, args map[string]any) map[string]any {
	t.Helper()
	res, err := tree.Call(context.Background(), name, args)
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return res
}

func output(t *testing.T, res map[string]any) string {
	t.Helper()
	if e, ok := res["error"]; ok {
		t.Fatalf("unexpected tool error: %v", e)
	}
	s, ok := res["output"].(string)
	if !ok {
		t.Fatalf("no output in %v", res)
	}
	return s
}

func toolError(t *testing.T, res map[string]any, want string) {
	t.Helper()
	e, ok := res["error"].(string)
	if !ok {
		t.Fatalf("no error in %v (want one containing %q)", res, want)
	}
	if !strings.Contains(e, want) {
		t.Errorf("error %q does not contain %q", e, want)
	}
}

func numbered(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	return b.String()
}

func TestReadFile(t *testing.T) {
	src := NewMemSource(map[string]string{
		"ten.txt":    numbered(10),
		"thirty.txt": numbered(30),
		"nonl.txt":   "a\nb",
		"empty.txt":  "",
		"crlf.txt":   "a\r\nb\r\n",
		"long.txt":   strings.Repeat("x", 300) + "\n" + numbered(3),
		"latin1.txt": "caf\xe9\n",
	})
	src.Add("img.png", ModeFile, []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
	tree := newTree(t, src, Policy{MaxReadBytes: 100})

	res := call(t, tree, ToolReadFile, map[string]any{"path": "ten.txt", "offset": 3.0, "limit": 2.0})
	if got := output(t, res); got != "line 3\nline 4\n" {
		t.Errorf("offset/limit: %q", got)
	}
	if res["start_line"] != 3 || res["end_line"] != 4 || res["total_lines"] != 10 {
		t.Errorf("window: %v", res)
	}
	if note, _ := res["note"].(string); !strings.Contains(note, "offset 5") {
		t.Errorf("note: %q", note)
	}
	// The byte bound cuts at a line boundary and says where to go on.
	res = call(t, tree, ToolReadFile, map[string]any{"path": "thirty.txt"})
	got := output(t, res)
	if len(got) > 100 || !strings.HasPrefix(got, "line 1\n") || !strings.HasSuffix(got, "\n") {
		t.Errorf("bounded read: %q", got)
	}
	if res["end_line"] != 13 || res["note"] == nil || !strings.Contains(res["note"].(string), "offset 14") {
		t.Errorf("bounded read claims completeness: %v", res)
	}
	res = call(t, tree, ToolReadFile, map[string]any{"path": "ten.txt", "offset": 10})
	if output(t, res) != "line 10\n" || res["note"] != nil {
		t.Errorf("last line: %v", res)
	}
	toolError(t, call(t, tree, ToolReadFile, map[string]any{"path": "ten.txt", "offset": 11.0}), "past the end")
	toolError(t, call(t, tree, ToolReadFile, map[string]any{"path": "ten.txt", "offset": 0.0}), "at least 1")
	toolError(t, call(t, tree, ToolReadFile, map[string]any{"path": "ten.txt", "limit": -1.0}), "at least 1")

	if res := call(t, tree, ToolReadFile, map[string]any{"path": "nonl.txt"}); output(t, res) != "a\nb" || res["total_lines"] != 2 {
		t.Errorf("no final newline: %v", res)
	}
	if res := call(t, tree, ToolReadFile, map[string]any{"path": "empty.txt"}); output(t, res) != "" || res["total_lines"] != 0 {
		t.Errorf("empty: %v", res)
	}
	if got := output(t, call(t, tree, ToolReadFile, map[string]any{"path": "crlf.txt"})); got != "a\r\nb\r\n" {
		t.Errorf("raw text: %q", got)
	}
	// A line longer than the bound is shown in part, then reading goes on.
	res = call(t, tree, ToolReadFile, map[string]any{"path": "long.txt"})
	if got := output(t, res); len(got) > 100 || res["end_line"] != 1 || !strings.Contains(res["note"].(string), "line 1 is 301 bytes") {
		t.Errorf("long line: %v", res)
	}
	toolError(t, call(t, tree, ToolReadFile, map[string]any{"path": "img.png"}), "binary file")
	toolError(t, call(t, tree, ToolReadFile, map[string]any{"path": "latin1.txt"}), "not UTF-8")
	toolError(t, call(t, tree, ToolReadFile, map[string]any{"path": "missing.txt"}), "does not exist")
}

func TestEditFile(t *testing.T) {
	src := NewMemSource(map[string]string{
		"a.txt":    "one\ntwo\nthree\ntwo\n",
		"crlf.txt": "a\r\nb\r\n",
	})
	tree := newTree(t, src, Policy{Edits: []string{"**"}})
	toolError(t, call(t, tree, ToolEditFile, map[string]any{"path": "a.txt", "old_text": "four", "new_text": "4"}), "not found")
	toolError(t, call(t, tree, ToolEditFile, map[string]any{"path": "a.txt", "old_text": "two", "new_text": "2"}), "matches 2 places")
	toolError(t, call(t, tree, ToolEditFile, map[string]any{"path": "a.txt", "old_text": "", "new_text": "2"}), "must not be empty")
	toolError(t, call(t, tree, ToolEditFile, map[string]any{"path": "a.txt", "old_text": "one", "new_text": "one"}), "same")
	toolError(t, call(t, tree, ToolEditFile, map[string]any{"path": "nope.txt", "old_text": "a", "new_text": "b"}), "does not exist")
	toolError(t, call(t, tree, ToolEditFile, map[string]any{"path": "crlf.txt", "old_text": "a\nb", "new_text": "c"}), "CRLF")

	out := output(t, call(t, tree, ToolEditFile, map[string]any{"path": "a.txt", "old_text": "three\ntwo\n", "new_text": "3\n2\n"}))
	if !strings.Contains(out, "lines 3-4") {
		t.Errorf("edit output: %q", out)
	}
	if got := output(t, call(t, tree, ToolReadFile, map[string]any{"path": "a.txt"})); got != "one\ntwo\n3\n2\n" {
		t.Errorf("after edit: %q", got)
	}
	ch, err := tree.Changes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []changes.FileChange{{Path: "a.txt", Base: []byte("one\ntwo\nthree\ntwo\n"), BaseExists: true, Desired: []byte("one\ntwo\n3\n2\n")}}
	if fmt.Sprint(ch) != fmt.Sprint(want) {
		t.Errorf("changes: %+v", ch)
	}
	// Editing back to the original leaves nothing to change.
	call(t, tree, ToolEditFile, map[string]any{"path": "a.txt", "old_text": "3\n2\n", "new_text": "three\ntwo\n"})
	if ch, _ := tree.Changes(context.Background()); len(ch) != 0 || tree.Stats().FilesChanged != 0 {
		t.Errorf("reverted edit still changes: %+v %+v", ch, tree.Stats())
	}
}

func TestWriteDeleteList(t *testing.T) {
	ctx := context.Background()
	src := linkRepo()
	tree := newTree(t, src, Policy{Edits: []string{"**"}})

	out := output(t, call(t, tree, ToolWriteFile, map[string]any{"path": "docs/new/b.md", "content": "# B\n"}))
	if !strings.Contains(out, "created") {
		t.Errorf("write: %q", out)
	}
	if got := output(t, call(t, tree, ToolReadFile, map[string]any{"path": "docs/new/b.md"})); got != "# B\n" {
		t.Errorf("read back: %q", got)
	}
	output(t, call(t, tree, ToolWriteFile, map[string]any{"path": "bin/run.sh", "content": "#!/bin/sh\nexit 0\n"}))
	output(t, call(t, tree, ToolDeleteFile, map[string]any{"path": "README.md"}))
	toolError(t, call(t, tree, ToolDeleteFile, map[string]any{"path": "README.md"}), "does not exist")
	toolError(t, call(t, tree, ToolReadFile, map[string]any{"path": "README.md"}), "deleted")

	root := output(t, call(t, tree, ToolListFiles, map[string]any{}))
	wantRoot := "bin/\ndocs/\nlink.txt (symbolic link)\nlinkdir (symbolic link)\nreal/\nsub (submodule)\nvendor/"
	if root != wantRoot {
		t.Errorf("root listing:\n%s\nwant:\n%s", root, wantRoot)
	}
	if got := output(t, call(t, tree, ToolListFiles, map[string]any{"path": "docs"})); got != "docs/a.md\ndocs/escape (symbolic link)\ndocs/new/" {
		t.Errorf("docs listing: %q", got)
	}
	if got := output(t, call(t, tree, ToolListFiles, map[string]any{"glob": "**/*.md"})); got != "docs/a.md\ndocs/new/b.md" {
		t.Errorf("glob listing: %q", got)
	}
	if got := output(t, call(t, tree, ToolListFiles, map[string]any{"path": "docs", "glob": "**"})); got != "docs/a.md\ndocs/escape (symbolic link)\ndocs/new/b.md" {
		t.Errorf("glob under path: %q", got)
	}
	if got := output(t, call(t, tree, ToolListFiles, map[string]any{"glob": "*.nothing"})); !strings.Contains(got, "no files match") {
		t.Errorf("empty glob: %q", got)
	}
	toolError(t, call(t, tree, ToolListFiles, map[string]any{"path": "missing"}), "does not exist")
	toolError(t, call(t, tree, ToolListFiles, map[string]any{"path": "bin/run.sh"}), "not a directory")
	toolError(t, call(t, tree, ToolListFiles, map[string]any{"glob": "[a"}), "not a valid pattern")
	toolError(t, call(t, tree, ToolListFiles, map[string]any{"path": ".git"}), ".git")

	// Deleting every file of a directory removes the directory.
	call(t, tree, ToolDeleteFile, map[string]any{"path": "docs/new/b.md"})
	if got := output(t, call(t, tree, ToolListFiles, map[string]any{"path": "docs"})); strings.Contains(got, "new") {
		t.Errorf("deleted directory still listed: %q", got)
	}

	ch, err := tree.Changes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range ch {
		got = append(got, fmt.Sprintf("%s delete=%v base=%v", c.Path, c.Delete, c.BaseExists))
	}
	if want := []string{"README.md delete=true base=true", "bin/run.sh delete=false base=true"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("changes: %v", got)
	}
	if string(ch[0].Base) != "hello\n" {
		t.Errorf("deleted file's base content: %q", ch[0].Base)
	}
	if m := tree.Modes(); len(m) != 1 || m["bin/run.sh"] != ModeExecutable {
		t.Errorf("modes: %v", m)
	}
}

func TestListBounded(t *testing.T) {
	files := map[string]string{}
	for i := range 30 {
		files[fmt.Sprintf("f%02d.txt", i)] = "x"
	}
	tree := newTree(t, NewMemSource(files), Policy{MaxListResults: 10})
	out := output(t, call(t, tree, ToolListFiles, map[string]any{"glob": "*.txt"}))
	if lines := strings.Split(out, "\n"); len(lines) != 11 || !strings.Contains(lines[10], "showing 10 of 30") {
		t.Errorf("bounded listing: %q", out)
	}
}

func TestSearch(t *testing.T) {
	files := map[string]string{
		"a.go":        "package a\n\nfunc Foo() {}\nfunc bar() {}\nfunc c() {}\nfunc d() {}\n",
		"b/b.go":      "package b\n\nfunc Baz() {}\n",
		"b/notes.txt": "func Nope()\n",
		"big.txt":     strings.Repeat("func Big\n", 200),
		"long.go":     "func Long" + strings.Repeat("x", 500) + "\n",
	}
	src := NewMemSource(files)
	src.Add("bin.dat", ModeFile, []byte("func\x00Bin\n"))
	src.Add("link.go", ModeSymlink, []byte("a.go"))
	tree := newTree(t, src, Policy{Edits: []string{"**"}, MaxSearchResults: 5, MaxFileBytes: 1000})
	got := output(t, call(t, tree, ToolSearch, map[string]any{"pattern": `func [A-Z]\w*\(`, "glob": "**/*.go"}))
	if want := "a.go:3: func Foo() {}\nb/b.go:3: func Baz() {}"; got != want {
		t.Errorf("search:\n%s\nwant:\n%s", got, want)
	}
	// Results are bounded.
	got = output(t, call(t, tree, ToolSearch, map[string]any{"pattern": "^func", "glob": "**/*.go"}))
	if lines := strings.Split(got, "\n"); len(lines) != 6 || lines[4] != "b/b.go:3: func Baz() {}" || !strings.Contains(got, "showing the first 5 matches") {
		t.Errorf("bounded search:\n%s", got)
	}
	// Binary and large files and links are skipped.
	got = output(t, call(t, tree, ToolSearch, map[string]any{"pattern": "^func", "glob": "{b*,link.go}"}))
	if got != "no matches\n(skipped 1 binary or non-UTF-8 files; skipped 1 files over 1000 bytes)" {
		t.Errorf("skipping search:\n%s", got)
	}
	// Long lines are shortened.
	got = output(t, call(t, tree, ToolSearch, map[string]any{"pattern": "Long"}))
	if !strings.HasPrefix(got, "long.go:1: func Long") || len(got) > 300 || !strings.Contains(got, "…") {
		t.Errorf("long line: %q", got)
	}
	// Files written in this run are searched; deleted ones are not.
	call(t, tree, ToolWriteFile, map[string]any{"path": "c.go", "content": "func Qux() {}\n"})
	call(t, tree, ToolDeleteFile, map[string]any{"path": "b/b.go"})
	got = output(t, call(t, tree, ToolSearch, map[string]any{"pattern": "Qux|Baz"}))
	if !strings.HasPrefix(got, "c.go:1: func Qux() {}\n(") {
		t.Errorf("search after writes: %q", got)
	}
	if got := output(t, call(t, tree, ToolSearch, map[string]any{"pattern": "zzz"})); !strings.HasPrefix(got, "no matches") {
		t.Errorf("no match: %q", got)
	}
	toolError(t, call(t, tree, ToolSearch, map[string]any{"pattern": "a(b"}), "RE2")
	toolError(t, call(t, tree, ToolSearch, map[string]any{"pattern": "(?<name>x)y\\"}), "RE2")
}

// A search over a large repository stops at its fetch and scan limits
// instead of reading everything.
func TestSearchLimits(t *testing.T) {
	files := map[string]string{}
	for i := range 50 {
		files[fmt.Sprintf("f%02d.txt", i)] = fmt.Sprintf("%099d\n", i) // distinct blobs
	}
	src := NewMemSource(files)
	tree := newTree(t, src, Policy{MaxSearchFetches: 10})
	got := output(t, call(t, tree, ToolSearch, map[string]any{"pattern": "x"}))
	if !strings.Contains(got, "stopped after reading 10 files") || src.Reads() != 10 {
		t.Errorf("fetch limit: %q, %d reads", got, src.Reads())
	}
	tree = newTree(t, NewMemSource(files), Policy{MaxSearchBytes: 550})
	got = output(t, call(t, tree, ToolSearch, map[string]any{"pattern": "x"}))
	if !strings.Contains(got, "stopped after scanning 500 bytes") {
		t.Errorf("scan limit: %q", got)
	}
	// The run's fetch budget is a refusal, and search reports it.
	src = NewMemSource(files)
	tree = newTree(t, src, Policy{MaxFetches: 3})
	got = output(t, call(t, tree, ToolSearch, map[string]any{"pattern": "x"}))
	if !strings.Contains(got, "limit") || src.Reads() != 3 {
		t.Errorf("run budget in search: %q", got)
	}
	toolError(t, call(t, tree, ToolReadFile, map[string]any{"path": "f40.txt"}), "limit")
}

func TestMalformedArgs(t *testing.T) {
	tree := newTree(t, NewMemSource(map[string]string{"a.txt": "a\n"}), Policy{Edits: []string{"**"}})
	cases := []struct {
		tool string
		args map[string]any
		want string
	}{
		{ToolReadFile, nil, `"path" is required`},
		{ToolReadFile, map[string]any{"path": 42.0}, "must be a string, not a number"},
		{ToolReadFile, map[string]any{"path": []any{"a.txt"}}, "not an array"},
		{ToolReadFile, map[string]any{"path": "a.txt", "offset": "3"}, "whole number, not a string"},
		{ToolReadFile, map[string]any{"path": "a.txt", "offset": 1.5}, "whole number"},
		{ToolReadFile, map[string]any{"path": "a.txt", "limit": true}, "not a boolean"},
		{ToolReadFile, map[string]any{"path": "a.txt", "limit": 1e300}, "whole number"},
		{ToolReadFile, map[string]any{"file_path": "a.txt"}, `no argument "file_path"`},
		{ToolWriteFile, map[string]any{"path": "b.txt"}, `"content" is required`},
		{ToolWriteFile, map[string]any{"path": "b.txt", "content": map[string]any{}}, "not an object"},
		{ToolWriteFile, map[string]any{"content": "x"}, `"path" is required`},
		{ToolWriteFile, map[string]any{"path": "b.txt", "content": strings.Repeat("x", DefaultMaxFileBytes+1)}, "limit"},
		{ToolEditFile, map[string]any{"path": "a.txt", "old_text": "a"}, `"new_text" is required`},
		{ToolEditFile, map[string]any{"path": "a.txt", "old_text": 1.0, "new_text": "b"}, "must be a string"},
		{ToolSearch, map[string]any{}, `"pattern" is required`},
		{ToolSearch, map[string]any{"pattern": strings.Repeat("a", 5000)}, "limit"},
		{ToolSearch, map[string]any{"pattern": "a", "glob": 3.0}, "must be a string"},
		{ToolListFiles, map[string]any{"path": false}, "must be a string"},
		{ToolDeleteFile, map[string]any{"path": strings.Repeat("x/", 5000)}, "bytes long"},
	}
	for _, c := range cases {
		toolError(t, call(t, tree, c.tool, c.args), c.want)
	}
	if _, err := tree.Call(context.Background(), "rm_rf", nil); err == nil {
		t.Error("unknown tool accepted")
	}
	if tree.Handles("rm_rf") || !tree.Handles(ToolEditFile) {
		t.Error("Handles")
	}
	if ch, _ := tree.Changes(context.Background()); len(ch) != 0 {
		t.Errorf("changes: %v", ch)
	}
	for _, c := range tree.Trace() {
		if c.Outcome == OutcomeOK || len(c.Path) > maxTraceBytes || len(c.Detail) > maxTraceBytes {
			t.Errorf("trace entry %+v", c)
		}
	}
}

func TestChangeLimits(t *testing.T) {
	files := map[string]string{"a.txt": "a", "b.txt": "b", "c.txt": "c"}
	tree := newTree(t, NewMemSource(files), Policy{Edits: []string{"**"}, MaxFiles: 2, MaxFileBytes: 10, MaxTotalBytes: 15})
	output(t, call(t, tree, ToolWriteFile, map[string]any{"path": "a.txt", "content": "0123456789"}))
	toolError(t, call(t, tree, ToolWriteFile, map[string]any{"path": "b.txt", "content": "01234567890"}), "limit is 10")
	toolError(t, call(t, tree, ToolWriteFile, map[string]any{"path": "b.txt", "content": "0123456"}), "total 17 bytes")
	output(t, call(t, tree, ToolDeleteFile, map[string]any{"path": "b.txt"}))
	toolError(t, call(t, tree, ToolDeleteFile, map[string]any{"path": "c.txt"}), "at most 2 files")
	toolError(t, call(t, tree, ToolWriteFile, map[string]any{"path": "d.txt", "content": ""}), "at most 2 files")
	// Rewriting a changed file, or restoring one, is always possible.
	output(t, call(t, tree, ToolWriteFile, map[string]any{"path": "a.txt", "content": "a"}))
	output(t, call(t, tree, ToolWriteFile, map[string]any{"path": "d.txt", "content": "d"}))
	if st := tree.Stats(); st.FilesChanged != 2 || st.Refused != 4 || st.BytesWritten != 12 {
		t.Errorf("stats: %+v", st)
	}
	for _, c := range tree.Trace() {
		if c.Name == ToolWriteFile && c.Outcome == OutcomeRefused && c.Path == "" {
			t.Errorf("refusal without a path: %+v", c)
		}
	}
}

func TestOverlay(t *testing.T) {
	ctx := context.Background()
	src := NewMemSource(map[string]string{"docs/a.md": "base a\n", "docs/b.md": "base b\n", "docs/c.md": "c\n"})
	src.Add("run.sh", ModeExecutable, []byte("#!/bin/sh\n"))
	pr, same, script := []byte("pr a\n"), []byte("c\n"), []byte("#!/bin/sh\necho pr\n")
	overlay := Overlay{Base: src, Files: map[string]*[]byte{
		"docs/a.md":   &pr,     // changed in the PR
		"docs/b.md":   nil,     // deleted in the PR
		"docs/c.md":   &same,   // "changed" to its base content
		"docs/new.md": &pr,     // created in the PR
		"run.sh":      &script, // an executable stays one
	}}
	tree := newTree(t, overlay, Policy{Edits: []string{"docs/**", "run.sh"}})
	if got := output(t, call(t, tree, ToolReadFile, map[string]any{"path": "docs/a.md"})); got != "pr a\n" {
		t.Errorf("overlay content: %q", got)
	}
	if got := output(t, call(t, tree, ToolListFiles, map[string]any{"path": "docs"})); got != "docs/a.md\ndocs/c.md\ndocs/new.md" {
		t.Errorf("overlay listing: %q", got)
	}
	if src.Reads() != 0 {
		t.Errorf("overlay files read from the base: %d", src.Reads())
	}
	// Changes are relative to the overlay: restoring b to its base
	// content is a change from the PR's state.
	call(t, tree, ToolWriteFile, map[string]any{"path": "docs/b.md", "content": "base b\n"})
	call(t, tree, ToolEditFile, map[string]any{"path": "run.sh", "old_text": "pr", "new_text": "run"})
	ch, err := tree.Changes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch) != 2 || ch[0].Path != "docs/b.md" || ch[0].BaseExists || string(ch[0].Desired) != "base b\n" ||
		ch[1].Path != "run.sh" || string(ch[1].Base) != string(script) {
		t.Errorf("changes relative to the overlay: %+v", ch)
	}
	if m := tree.Modes(); m["run.sh"] != ModeExecutable || m["docs/b.md"] != ModeFile {
		t.Errorf("modes: %v", m)
	}
	// An overlay that makes a path both a file and a directory is refused.
	d := []byte("x")
	if _, err := New(ctx, Overlay{Base: src, Files: map[string]*[]byte{"docs/a.md/x": &d}}, Policy{}); err == nil {
		t.Error("file-and-directory overlay accepted")
	}
}

// Writing over a file the run never read costs no read: the blob SHA says
// whether it changed. Changes reads the base once, for the change manager.
func TestLazyAndSourceErrors(t *testing.T) {
	ctx := context.Background()
	src := NewMemSource(map[string]string{"a.txt": "a\n", "b.txt": "b\n"})
	tree := newTree(t, src, Policy{Edits: []string{"**"}})
	call(t, tree, ToolWriteFile, map[string]any{"path": "a.txt", "content": "a\n"})
	call(t, tree, ToolWriteFile, map[string]any{"path": "b.txt", "content": "B\n"})
	if src.Reads() != 0 || tree.Stats().FilesChanged != 1 {
		t.Errorf("reads %d, stats %+v", src.Reads(), tree.Stats())
	}
	if _, err := tree.Changes(ctx); err != nil || src.Reads() != 1 {
		t.Errorf("changes: %v, %d reads", err, src.Reads())
	}

	src = NewMemSource(map[string]string{"a.txt": "a\n"})
	tree = newTree(t, src, Policy{})
	src.FailReads(errors.New("502 Bad Gateway"))
	_, err := tree.Call(ctx, ToolReadFile, map[string]any{"path": "a.txt"})
	if !errors.Is(err, ErrSource) {
		t.Errorf("source failure: %v", err)
	}
	if tr := tree.Trace(); len(tr) != 1 || tr[0].Outcome != OutcomeError {
		t.Errorf("trace: %+v", tr)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := tree.Call(cctx, ToolListFiles, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestDeclarations(t *testing.T) {
	tree := newTree(t, NewMemSource(nil), Policy{Edits: []string{"docs/**"}})
	decls := tree.Declarations()
	if len(decls) != 6 {
		t.Fatalf("%d declarations", len(decls))
	}
	for _, d := range decls {
		if !tree.Handles(d.Name) || d.Description == "" || d.Parameters == nil {
			t.Errorf("declaration %+v", d)
		}
		for _, r := range d.Parameters.Required {
			if d.Parameters.Properties[r] == nil {
				t.Errorf("%s requires undeclared %q", d.Name, r)
			}
		}
		for name := range d.Parameters.Properties {
			found := false
			for _, a := range tools[d.Name].args {
				found = found || a == name
			}
			if !found {
				t.Errorf("%s declares %q, which Call rejects", d.Name, name)
			}
		}
		if d.Name == ToolWriteFile && !strings.Contains(d.Description, `"docs/**"`) {
			t.Errorf("write_file does not name the writable globs: %s", d.Description)
		}
	}
}

func TestHugeAndRestoredFiles(t *testing.T) {
	src := NewMemSource(map[string]string{"big.txt": strings.Repeat("x\n", 100), "a.txt": "a\n"})
	tree := newTree(t, src, Policy{Edits: []string{"**"}, MaxSourceFileBytes: 100})
	toolError(t, call(t, tree, ToolReadFile, map[string]any{"path": "big.txt"}), "files over 100 bytes are not read")
	toolError(t, call(t, tree, ToolDeleteFile, map[string]any{"path": "big.txt"}), "files over 100 bytes are not changed")
	toolError(t, call(t, tree, ToolWriteFile, map[string]any{"path": "big.txt", "content": ""}), "not changed")
	if out := output(t, call(t, tree, ToolWriteFile, map[string]any{"path": "a.txt", "content": "a\n"})); !strings.Contains(out, "unchanged") {
		t.Errorf("same content: %q", out)
	}
	output(t, call(t, tree, ToolWriteFile, map[string]any{"path": "a.txt", "content": "b\n"}))
	if out := output(t, call(t, tree, ToolWriteFile, map[string]any{"path": "a.txt", "content": "a\n"})); !strings.Contains(out, "restored") {
		t.Errorf("restored: %q", out)
	}
	res := call(t, tree, ToolReadFile, map[string]any{"path": "bad\x00path"})
	toolError(t, res, "NUL")
	if tr := tree.Trace(); tr[len(tr)-1].Path != `bad\x00path` || tr[len(tr)-1].Outcome != OutcomeRefused {
		t.Errorf("trace of a refused path: %+v", tr[len(tr)-1])
	}
}

// A model may ask for several calls at once; the Tree serializes them.
func TestConcurrentCalls(t *testing.T) {
	files := map[string]string{}
	for i := range 20 {
		files[fmt.Sprintf("docs/%02d.md", i)] = fmt.Sprintf("doc %d\n", i)
	}
	src := NewMemSource(files)
	tree := newTree(t, src, Policy{Edits: []string{"docs/**"}})
	done := make(chan struct{})
	for i := range 20 {
		go func() {
			defer func() { done <- struct{}{} }()
			p := fmt.Sprintf("docs/%02d.md", i)
			_, _ = tree.Call(context.Background(), ToolReadFile, map[string]any{"path": p})
			_, _ = tree.Call(context.Background(), ToolEditFile, map[string]any{"path": p, "old_text": "doc", "new_text": "Doc"})
			_, _ = tree.Call(context.Background(), ToolSearch, map[string]any{"pattern": "Doc"})
			_ = tree.Stats()
		}()
	}
	for range 20 {
		<-done
	}
	ch, err := tree.Changes(context.Background())
	if err != nil || len(ch) != 20 || src.Reads() != 20 {
		t.Errorf("%d changes, %v, %d reads", len(ch), err, src.Reads())
	}
	if n := len(tree.Trace()); n != 60 {
		t.Errorf("%d calls traced", n)
	}
}
