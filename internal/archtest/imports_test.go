package archtest

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/tend-app/tend"

type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

// listPackages runs `go list -json` over the module and returns its
// packages by import path (test files excluded: the rules are about what
// ships).
func listPackages(t *testing.T) map[string]pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", "./...")
	cmd.Dir = repoRoot(t)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]pkg{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decode go list: %v", err)
		}
		pkgs[p.ImportPath] = p
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("no go.mod at %s: %v", dir, err)
	}
	return dir
}

func local(paths []string) []string {
	var out []string
	for _, p := range paths {
		if p == module || strings.HasPrefix(p, module+"/") {
			out = append(out, strings.TrimPrefix(strings.TrimPrefix(p, module), "/"))
		}
	}
	return out
}

// The reconcilers and the contract they implement know nothing of the
// queue or the database: a reconciler is a function of GitHub's state.
func TestReconcilersImportNoQueueOrDatabase(t *testing.T) {
	pkgs := listPackages(t)
	for _, name := range []string{"reconcilers", "reconcilers/commands", "reconcilers/changes", "reconcilers/images", "reconcilers/agent", "reconcilers/agent/worktree"} {
		p, ok := pkgs[module+"/"+name]
		if !ok {
			t.Fatalf("package %s is missing", name)
		}
		for _, d := range p.Deps {
			if strings.Contains(d, "riverqueue") || strings.HasPrefix(d, "modernc.org/sqlite") || strings.HasPrefix(d, "github.com/jackc/pgx") {
				t.Errorf("%s depends on %s", name, d)
			}
			if l := local([]string{d}); len(l) == 1 && (strings.HasPrefix(l[0], "internal/queue") || strings.HasPrefix(l[0], "internal/store") || strings.HasPrefix(l[0], "internal/worker") || l[0] == "handlers" || l[0] == "server") {
				t.Errorf("%s depends on %s", name, l[0])
			}
		}
	}
}

// Imports point down. Each package may import only the tend packages named
// here (test files aside); a new package must be placed in this table.
func TestImportsPointDown(t *testing.T) {
	allowed := map[string][]string{
		"internal/keys":              {},
		"internal/imagename":         {},
		"internal/appmanifest":       {},
		"internal/clip":              {},
		"internal/toolschema":        {},
		"internal/botpr":             {"internal/keys"},
		"internal/command":           {"internal/clip"},
		"internal/config":            {"internal/keys"},
		"internal/store":             {"internal/config", "internal/keys"},
		"reconcilers":                {"internal/config", "internal/keys"},
		"internal/queue":             {"internal/store", "internal/config", "internal/keys", "reconcilers"},
		"handlers":                   {"internal/clip", "internal/command", "internal/queue", "internal/store", "internal/config", "internal/keys", "internal/botpr", "internal/imagename"},
		"prompts":                    {},
		"reconcilers/changes":        {"internal/clip", "internal/botpr", "internal/config", "internal/keys"},
		"reconcilers/images":         {"reconcilers", "reconcilers/changes", "internal/imagename", "internal/botpr", "internal/config", "internal/keys"},
		"reconcilers/agent/worktree": {"internal/clip", "internal/toolschema", "reconcilers/changes", "internal/botpr", "internal/config", "internal/keys"},
		"reconcilers/commands":       {"internal/clip", "internal/command", "internal/botpr", "internal/keys"},
		"reconcilers/agent":          {"internal/clip", "internal/toolschema", "reconcilers", "reconcilers/commands", "reconcilers/changes", "reconcilers/images", "reconcilers/agent/worktree", "prompts", "internal/botpr", "internal/config", "internal/keys"},
		"internal/worker":            {"reconcilers", "reconcilers/commands", "reconcilers/changes", "internal/queue", "internal/botpr", "internal/config", "internal/keys"},
		"internal/pace":              {"internal/store", "reconcilers"},
	}
	all := listPackages(t)
	for path, p := range all {
		name := strings.TrimPrefix(strings.TrimPrefix(path, module), "/")
		if name == "server" || strings.HasPrefix(name, "internal/fake") || name == "internal/e2e" || name == "internal/loadtest" || name == "internal/fixtures" || name == "internal/testdb" || name == "internal/testwait" || name == "internal/archtest" || name == "internal/deploytest" {
			continue // the composition root and test support may import anything below them
		}
		want, ok := allowed[name]
		if !ok {
			t.Errorf("package %s has no place in the import table of this test: add it", name)
			continue
		}
		for _, imp := range local(p.Imports) {
			if !slices.Contains(want, imp) {
				t.Errorf("%s imports %s, which is not below it", name, imp)
			}
		}
	}
	// Nothing imports the composition root or test support from shipping code.
	for path, p := range all {
		name := strings.TrimPrefix(strings.TrimPrefix(path, module), "/")
		if name == "server" || name == "internal/loadtest" || name == "internal/archtest" {
			continue
		}
		for _, imp := range local(p.Imports) {
			if imp == "server" || (!strings.HasPrefix(name, "internal/") && (strings.HasPrefix(imp, "internal/fake") || imp == "internal/e2e" || imp == "internal/testdb" || imp == "internal/testwait")) {
				t.Errorf("%s imports %s", name, imp)
			}
		}
	}
}

// The top level is the card's, so a newcomer sees the product's shape first.
func TestTopLevelLayout(t *testing.T) {
	allowed := []string{"server", "handlers", "reconcilers", "prompts", "deploy", "internal", "go.mod", "go.sum", "app.yml", "README.md", "BENCHMARKS.md", "RELIABILITY.md", ".ci", ".gitignore", ".ko.yaml", ".git", ".cache", "data", "tend"}
	entries, err := os.ReadDir(repoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !slices.Contains(allowed, e.Name()) {
			t.Errorf("unexpected top-level entry %q: the top level holds only %v", e.Name(), allowed)
		}
	}
	for _, must := range []string{"server", "handlers", "reconcilers", "prompts", "deploy", "internal", "go.mod", "app.yml", "README.md"} {
		if _, err := os.Stat(filepath.Join(repoRoot(t), must)); err != nil {
			t.Errorf("top-level %s is missing", must)
		}
	}
}
