package worktree

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestGateSyntax(t *testing.T) {
	ctx := context.Background()
	src := NewMemSource(map[string]string{
		"tsconfig.json":        "{\n  // comments: not JSON, but common\n  \"a\": 1\n}\n",
		"chart/templates.yaml": "a: {{ .Values.x }}\n",
		"ok.yaml":              "a: 1\n",
	})
	tree := newTree(t, src, Policy{Edits: []string{"**"}})
	writes := map[string]string{
		"multi.yaml":           "a: 1\n---\nb: [1, 2\nc: 3\n",
		"dup.yml":              "a: 1\na: 2\n",
		"bad.json":             "{\n  \"a\": 1,\n  \"b\": ,\n}\n",
		"trail.json":           "{} {}",
		"short.JSON":           "[1, 2",
		"bad.toml":             "[server]\nport = 80\nhost = \n",
		"good.yml":             "---\na: 1\n---\n- x\n",
		"good.json":            "{\"a\": [1, 2, {\"b\": null}]}\n",
		"good.toml":            "[a]\nb = 1\n",
		"notes.txt":            "{ not json",
		"ok.yaml":              "a: 2\n",
		"tsconfig.json":        "{\n  // still has comments\n  \"a\": 2\n}\n",
		"chart/templates.yaml": "a: {{ .Values.y }}\n",
	}
	for p, c := range writes {
		output(t, call(t, tree, ToolWriteFile, map[string]any{"path": p, "content": c}))
	}
	problems := tree.Check(ctx)
	want := map[string][]string{
		"bad.json":   {"invalid JSON", "line 3, column 8"},
		"bad.toml":   {"invalid TOML", "line 3"},
		"dup.yml":    {"invalid YAML in document 1", "line 2", "already defined"},
		"multi.yaml": {"invalid YAML in document 2", "line 3:"},
		"short.JSON": {"invalid JSON", "line 1", "end of input"},
		"trail.json": {"invalid JSON", "line 1, column 4", "after the top-level value"},
	}
	if len(problems) != len(want) {
		t.Errorf("problems:\n%s", strings.Join(problems, "\n"))
	}
	for file, parts := range want {
		found := false
		for _, p := range problems {
			if strings.HasPrefix(p, file+": ") {
				found = true
				for _, part := range parts {
					if !strings.Contains(p, part) {
						t.Errorf("problem %q lacks %q", p, part)
					}
				}
			}
		}
		if !found {
			t.Errorf("no problem reported for %s:\n%s", file, strings.Join(problems, "\n"))
		}
	}
	// A new file that does not parse is the agent's doing, whatever its
	// directory.
	call(t, tree, ToolWriteFile, map[string]any{"path": "chart/new.yaml", "content": "a: {{ .Values.z }}\n"})
	problems = tree.Check(ctx)
	if !strings.Contains(strings.Join(problems, "\n"), "chart/new.yaml: invalid YAML") {
		t.Errorf("new invalid YAML accepted:\n%s", strings.Join(problems, "\n"))
	}
}

func TestGatePolicy(t *testing.T) {
	ctx := context.Background()
	src := linkRepo()
	tree := newTree(t, src, Policy{Edits: []string{"**", ".github/workflows/*.yml"}})
	output(t, call(t, tree, ToolWriteFile, map[string]any{"path": "docs/a.md", "content": "new\n"}))
	output(t, call(t, tree, ToolWriteFile, map[string]any{"path": "src/x.go", "content": "package x\n"}))
	output(t, call(t, tree, ToolWriteFile, map[string]any{"path": ".github/workflows/ci.yml", "content": "on: push\n"}))
	if problems := tree.Check(ctx); len(problems) != 0 {
		t.Fatalf("accepted set refused: %v", problems)
	}
	// The same changes under the rule's narrower policy.
	problems := tree.CheckWith(ctx, Policy{Edits: []string{"docs/**", "**/*.go"}})
	if len(problems) != 1 || !strings.HasPrefix(problems[0], ".github/workflows/ci.yml: may not be changed") {
		t.Errorf("problems: %q", problems)
	}
	problems = tree.CheckWith(ctx, Policy{KeyPath: "docs/a.md"})
	if len(problems) != 2 {
		t.Errorf("default edits: %q", problems)
	}
	problems = tree.CheckWith(ctx, Policy{})
	if len(problems) != 3 {
		t.Errorf("issue key without edits: %q", problems)
	}
	// Size limits.
	problems = tree.CheckWith(ctx, Policy{Edits: []string{"**", ".github/workflows/*"}, MaxFiles: 2, MaxFileBytes: 9, MaxTotalBytes: 12})
	joined := strings.Join(problems, "\n")
	for _, want := range []string{"3 files changed; the limit is 2", "src/x.go: 10 bytes; the limit per file is 9", "total 23 bytes; the limit is 12"} {
		if !strings.Contains(joined, want) {
			t.Errorf("size problems lack %q:\n%s", want, joined)
		}
	}
}

// The gate re-checks what the tools should never have let through, and
// refuses what it cannot check.
func TestGateDefenceInDepth(t *testing.T) {
	ctx := context.Background()
	src := linkRepo()
	tree := newTree(t, src, Policy{Edits: []string{"docs/**"}})
	// Simulate states the tools never produce: a change under a link and
	// one outside the edits.
	tree.cur["linkdir/evil"] = &state{data: []byte("x")}
	tree.cur["src/outside.go"] = &state{data: []byte("x")}
	problems := tree.Check(ctx)
	joined := strings.Join(problems, "\n")
	if len(problems) != 2 || !strings.Contains(joined, "src/outside.go: may not be changed") || !strings.Contains(joined, "linkdir/evil: may not be changed") {
		t.Errorf("problems %q", problems)
	}
	problems = tree.CheckWith(ctx, Policy{Edits: []string{"**"}})
	if len(problems) != 1 || !strings.Contains(problems[0], `linkdir/evil: may not be changed: "linkdir" is a symbolic link`) {
		t.Errorf("problems %q", problems)
	}
	// A base content that cannot be read blocks the change set.
	tree = newTree(t, src, Policy{Edits: []string{"**"}})
	output(t, call(t, tree, ToolDeleteFile, map[string]any{"path": "README.md"}))
	src.FailReads(errors.New("502 Bad Gateway"))
	if problems := tree.Check(ctx); len(problems) != 1 || !strings.Contains(problems[0], "502") {
		t.Errorf("problems %q", problems)
	}
}

// Line numbers are 1-based whichever part of yaml.v3 found the problem.
func TestYAMLLines(t *testing.T) {
	cases := map[string]string{
		"b: [1, 2\nc: 3\n":            "document 1: yaml: line 2: did not find expected ',' or ']'",
		"a: 1\n---\nb: [1, 2\nc: 3\n": "document 2: yaml: line 3: did not find expected ',' or ']'",
		"a:\n  b: 1\n c: 2\n":         "document 1: yaml: line 3: did not find expected key",
		"a: 1\n  b: 2\n":              "document 1: yaml: line 2: mapping values are not allowed",
		"a: 1\n---\nb: \"x\n":         "document 2: yaml: line 3: found unexpected end of stream",
		"a: 1\n---\nb: 1\nb: 2\n":     `line 4: mapping key "b" already defined at line 3`,
	}
	for in, want := range cases {
		if err := yamlError([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
}
