package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tend-app/tend/internal/e2e"
	"github.com/tend-app/tend/internal/fakegemini"
)

const planAgentConfig = `version: 1
rules:
  - name: docs
    reconciler: agent
    paths: ["docs/*.md"]
    prompt: "Every doc ends with a line 'Reviewed.'"
    edits: ["docs/**"]
  - name: requests
    reconciler: agent
    paths: ["docs/*.md"]
    prompt: "Answer documentation requests."
    edits: ["docs/**"]
    on:
      push: false
      issues: {label: tend}
`

// planAgentCheckout is a checkout with one doc the docs rule matches, a
// file outside its edits, an executable and a symbolic link (the local
// source keeps both as they are).
func planAgentCheckout(t *testing.T) string {
	t.Helper()
	dir := writeCheckout(t, map[string]string{
		".github/tend.yaml": planAgentConfig,
		"docs/a.md":         "# A\n\nText.\n",
		"README.md":         "hi\n",
		"run.sh":            "#!/bin/sh\necho hi\n",
		".git/HEAD":         "ref: refs/heads/trunk\n",
	})
	if err := os.Chmod(filepath.Join(dir, "run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../README.md", filepath.Join(dir, "docs", "readme-link.md")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// snapshot is every entry below dir: mode, and content or link target.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		var content []byte
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			content = []byte(target)
			if err != nil {
				return err
			}
		case d.Type().IsRegular():
			if content, err = os.ReadFile(p); err != nil {
				return err
			}
		}
		out[p] = fmt.Sprintf("%v %q", info.Mode(), content)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func assertUnchanged(t *testing.T, dir string, before map[string]string) {
	t.Helper()
	after := snapshot(t, dir)
	for p, v := range after {
		if before[p] != v {
			t.Errorf("plan changed or created %s: %s (was %s)", p, v, before[p])
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			t.Errorf("plan removed %s", p)
		}
	}
}

func geminiEnv(gem *fakegemini.Server) map[string]string {
	return map[string]string{"HOME": os.Getenv("HOME"), "GEMINI_API_KEY": "plan-key", "GOOGLE_GEMINI_BASE_URL": gem.URL(), "TEND_MODEL": "gemini-plan"}
}

// tend plan runs an agent rule's agent on the checkout with the fake
// model: the tools read the local files, an edit outside the rule's edits
// is refused as on GitHub, the diff and check run are printed, exit 2, and
// the checkout is byte for byte as it was, with no new files.
func TestPlanAgentRule(t *testing.T) {
	dir := planAgentCheckout(t)
	before := snapshot(t, dir)
	gem := fakegemini.New(t,
		fakegemini.Calls(fakegemini.FunctionCall{Name: "list_files", Args: map[string]any{}}, fakegemini.FunctionCall{Name: "read_file", Args: map[string]any{"path": "docs/a.md"}}),
		fakegemini.Call("edit_file", map[string]any{"path": "README.md", "old_text": "hi\n", "new_text": "hello\n"}),
		fakegemini.Call("edit_file", map[string]any{"path": "docs/a.md", "old_text": "Text.\n", "new_text": "Text.\n\nReviewed.\n"}),
		fakegemini.Call("submit", map[string]any{"title": "Mark docs/a.md reviewed", "summary": "Adds the closing line."}),
	)
	out, code, err := e2e.Run(geminiEnv(gem), "plan", "--dir", dir, "--rule", "docs")
	if err != nil || code != 2 {
		t.Fatalf("plan: code %d, %v\n%s", code, err, out)
	}
	for _, want := range []string{
		"# docs:docs/a.md: Mark docs/a.md reviewed\n",
		"--- a/docs/a.md\n+++ b/docs/a.md\n", "@@ -1,3 +1,5 @@\n # A\n \n Text.\n+\n+Reviewed.\n\nCheck run",
		"Check run (success): Would open a pull request", "Adds the closing line.",
		"| `edit_file` | `README.md` | refused |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "+hello") {
		t.Errorf("the refused edit reached the diff:\n%s", out)
	}
	assertUnchanged(t, dir, before)

	reqs := gem.Requests()
	if len(reqs) != 4 || reqs[0].Model != "gemini-plan" {
		t.Fatalf("model requests: %d", len(reqs))
	}
	if !strings.Contains(reqs[0].UserText(), "docs/a.md") || !strings.Contains(reqs[0].System, "`trunk`") {
		t.Errorf("the prompts do not name the path and the checkout's branch:\n%s\n%s", reqs[0].System, reqs[0].UserText())
	}
	list, _ := reqs[1].FunctionResponse("list_files")
	read, _ := reqs[1].FunctionResponse("read_file")
	if listed := fmt.Sprint(list.Response); !strings.Contains(listed, "run.sh") || strings.Contains(listed, ".git/HEAD") {
		t.Errorf("list_files answered %s", listed)
	}
	if got := fmt.Sprint(read.Response["output"]); got != "# A\n\nText.\n" {
		t.Errorf("read_file answered %q, want the checkout's file", got)
	}
	if refused, _ := reqs[2].FunctionResponse("edit_file"); refused.Response["error"] == nil {
		t.Errorf("the edit outside edits was not refused: %v", refused.Response)
	}
}

// The model says no change is needed: exit 0, and the check run says why.
// A model error, or a run that ends on a budget, is exit 1 with a clear
// message.
func TestPlanAgentNoChangeAndModelError(t *testing.T) {
	dir := planAgentCheckout(t)
	before := snapshot(t, dir)
	gem := fakegemini.New(t,
		// Both rules match docs/a.md.
		fakegemini.Call("no_change", map[string]any{"reason": "The doc already ends well."}),
		fakegemini.Call("no_change", map[string]any{"reason": "No request to answer."}),
		fakegemini.Error(400, nil, "API key not valid"),
	)
	out, code, _ := e2e.Run(geminiEnv(gem), "plan", "--dir", dir)
	if code != 0 || !strings.Contains(out, "# docs:docs/a.md: no change") || !strings.Contains(out, "# requests:docs/a.md: no change") || !strings.Contains(out, "The doc already ends well.") {
		t.Errorf("no change: code %d\n%s", code, out)
	}
	// The requests rule answers issues: without --task it names the flag.
	if !strings.Contains(out, `rule "requests" also answers issues labelled "tend"`) || !strings.Contains(out, "--task") {
		t.Errorf("no note on the issue-triggered rule:\n%s", out)
	}
	out, code, _ = e2e.Run(geminiEnv(gem), "plan", "--dir", dir, "--rule", "docs")
	if code != 1 || !strings.Contains(out, `rule "docs", docs:docs/a.md: the model failed:`) || !strings.Contains(out, "API key not valid") {
		t.Errorf("model error: code %d\n%s", code, out)
	}
	if strings.Contains(out, "plan-key") {
		t.Errorf("the API key reached the output:\n%s", out)
	}

	// A run that ends on its turn budget says so and is an error: plan
	// cannot tell what would change.
	spent := fakegemini.New(t, fakegemini.Call("read_file", map[string]any{"path": "docs/a.md"}))
	env := geminiEnv(spent)
	env["TEND_AGENT_MAX_TURNS"] = "1"
	out, code, _ = e2e.Run(env, "plan", "--dir", dir, "--rule", "docs")
	if code != 1 || !strings.Contains(out, "Check run (neutral): Turn budget spent") || !strings.Contains(out, "the agent did not finish: Turn budget spent") {
		t.Errorf("turn budget: code %d\n%s", code, out)
	}
	assertUnchanged(t, dir, before)
}

// --task previews a request to a rule that answers issues: the request is
// the issue the agent reads, and a new file shows as created, not written.
func TestPlanAgentTask(t *testing.T) {
	dir := planAgentCheckout(t)
	before := snapshot(t, dir)
	gem := fakegemini.New(t,
		fakegemini.Call("get_issue", map[string]any{}),
		fakegemini.Call("write_file", map[string]any{"path": "docs/faq.md", "content": "# FAQ\n"}),
		fakegemini.Call("submit", map[string]any{"title": "Add a FAQ", "summary": "Starts the FAQ."}),
	)
	out, code, _ := e2e.Run(geminiEnv(gem), "plan", "--dir", dir, "--rule", "requests", "--task", "Add a FAQ\n\nUnder docs/, please.")
	if code != 2 || !strings.Contains(out, "# requests#request: Add a FAQ\n--- /dev/null\n+++ b/docs/faq.md\n") || !strings.Contains(out, "+# FAQ") {
		t.Errorf("task: code %d\n%s", code, out)
	}
	if issue, _ := gem.Requests()[1].FunctionResponse("get_issue"); fmt.Sprint(issue.Response["output"]) == "" || !strings.Contains(fmt.Sprint(issue.Response), "Under docs/, please.") {
		t.Errorf("get_issue answered %v", issue.Response)
	}
	assertUnchanged(t, dir, before)
	for name, args := range map[string][]string{
		"task without rule":           {"plan", "--dir", dir, "--task", "x"},
		"task for a rule sans issues": {"plan", "--dir", dir, "--rule", "docs", "--task", "x"},
		"task with path":              {"plan", "--dir", dir, "--rule", "requests", "--path", "docs/a.md", "--task", "x"},
	} {
		if out, code, _ := e2e.Run(geminiEnv(gem), args...); code != 1 || !strings.Contains(out, "--task") {
			t.Errorf("%s: code %d\n%s", name, code, out)
		}
	}
}
