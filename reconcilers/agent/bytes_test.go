package agent_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/tend-app/tend/internal/fakegemini"
)

// A scripted 10-turn run over repositories of 20 and of 2,000 files: the
// bytes sent to the model per turn must not depend on the repository's
// size, only on what the model reads. The figures go to BENCHMARKS.md.
func TestPromptDoesNotGrowWithRepository(t *testing.T) {
	perTurn := map[int][]int{}
	for _, size := range []int{20, 2000} {
		files := map[string]string{"docs/a.md": "# A\n\nText.\n"}
		for i := 0; i < 5; i++ {
			files[fmt.Sprintf("docs/ref%d.md", i)] = fmt.Sprintf("# Reference %d\n\n%s\n", i, strings.Repeat("Some reference text. ", 20))
		}
		for i := len(files); i < size; i++ {
			files[fmt.Sprintf("src/pkg%03d/file%d.go", i/10, i)] = fmt.Sprintf("package pkg%d\n\n// File %d.\nfunc F%d() {}\n", i/10, i, i)
		}
		script := []fakegemini.Turn{
			fakegemini.Call("list_files", map[string]any{"pattern": "docs/*"}),
			fakegemini.Call("read_file", map[string]any{"path": "docs/a.md"}),
		}
		for i := 0; i < 5; i++ {
			script = append(script, fakegemini.Call("read_file", map[string]any{"path": fmt.Sprintf("docs/ref%d.md", i)}))
		}
		script = append(script,
			fakegemini.Call("search", map[string]any{"pattern": "Reviewed", "glob": "docs/**"}),
			fakegemini.Call("edit_file", map[string]any{"path": "docs/a.md", "old_text": "Text.\n", "new_text": "Text.\n\nReviewed.\n"}),
			fakegemini.Call("submit", map[string]any{"title": "Review docs/a.md", "summary": "Adds the line."}),
		)
		h := newHarness(t, files, script...)
		if res := h.run(t, "acme/web:docs:docs/a.md", "resync"); res.Outcome != "pr-opened" {
			t.Fatalf("%d files: outcome %s", size, res.Outcome)
		}
		reqs := h.gem.Requests()
		if len(reqs) != 10 {
			t.Fatalf("%d files: %d turns", size, len(reqs))
		}
		for i, r := range reqs {
			perTurn[i+1] = append(perTurn[i+1], len(r.Body))
		}
	}
	var b strings.Builder
	b.WriteString("| turn | tool answered | bytes sent, 20 files | bytes sent, 2,000 files |\n|---|---|---|---|\n")
	tools := []string{"(first prompt)", "list_files", "read_file", "read_file", "read_file", "read_file", "read_file", "read_file", "search", "edit_file"}
	total := [2]int{}
	for turn := 1; turn <= 10; turn++ {
		v := perTurn[turn]
		total[0] += v[0]
		total[1] += v[1]
		fmt.Fprintf(&b, "| %d | %s | %d | %d |\n", turn, tools[turn-1], v[0], v[1])
		if v[0] != v[1] {
			t.Errorf("turn %d sent %d bytes with 20 files and %d with 2,000: the prompt grows with the repository", turn, v[0], v[1])
		}
	}
	fmt.Fprintf(&b, "| total | | %d | %d |\n", total[0], total[1])
	t.Logf("\n%s", b.String())
	if f := os.Getenv("TEND_AGENT_BYTES_REPORT"); f != "" {
		_ = os.WriteFile(f, []byte(b.String()), 0o644)
	}
}
