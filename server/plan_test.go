package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tend-app/tend/internal/e2e"
)

func writeCheckout(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// tend plan against a loopback registry: the diff and summary of each key
// that would change, exit 2; nothing written; exit 0 once pinned; exit 1
// for a broken config, an unknown rule, or an agent rule without model
// credentials.
func TestPlanCommand(t *testing.T) {
	reg := newRegistry(t)
	digest := reg.push(t, "acme/app", "1.0", false)
	ref := reg.ref("acme/app", "1.0")
	cfg := imagesConfig + `  - name: docs
    reconciler: agent
    paths: ["docs/*.md"]
    prompt: "Keep it short."
`
	dir := writeCheckout(t, map[string]string{
		".github/tend.yaml": cfg,
		"deploy/app.yaml":   deployment(ref),
		"deploy/other.yaml": "kind: ConfigMap\n",
		"docs/a.md":         "# A\n",
	})
	env := map[string]string{"HOME": t.TempDir()}
	out, code, err := e2e.Run(env, "plan", "--dir", dir)
	if err != nil || code != 2 {
		t.Fatalf("plan: code %d, %v\n%s", code, err, out)
	}
	for _, want := range []string{
		"--- a/deploy/app.yaml", "+++ b/deploy/app.yaml",
		`-          image: "` + ref + `"`, `+          image: "` + ref + "@" + digest + `"`,
		"# pin-images:deploy/app.yaml: Pin container images in deploy/app.yaml",
		"# pin-images:deploy/other.yaml: no change", "tend pins the container images", "1 found, 1 pinned now",
		`skipping agent rule "docs"`, "GEMINI_API_KEY",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan output lacks %q:\n%s", want, out)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "deploy/app.yaml")); string(got) != deployment(ref) {
		t.Error("plan wrote to the checkout")
	}

	pinned := writeCheckout(t, map[string]string{".github/tend.yaml": imagesConfig, "deploy/app.yaml": deployment(ref + "@" + digest)})
	if out, code, _ := e2e.Run(env, "plan", "--dir", pinned, "--rule", "pin-images", "--path", "deploy/app.yaml"); code != 0 || !strings.Contains(out, "no change") {
		t.Errorf("pinned checkout: code %d\n%s", code, out)
	}
	for name, args := range map[string][]string{
		"agent rule without credentials": {"plan", "--dir", dir, "--rule", "docs"},
		"unknown rule":                   {"plan", "--dir", dir, "--rule", "nope"},
		"no --dir":                       {"plan"},
		"path outside":                   {"plan", "--dir", dir, "--path", "../x"},
	} {
		if out, code, _ := e2e.Run(env, args...); code != 1 {
			t.Errorf("%s: code %d\n%s", name, code, out)
		}
	}
	if out, _, _ := e2e.Run(env, "plan", "--dir", dir, "--rule", "docs"); !strings.Contains(out, "needs model credentials") {
		t.Errorf("agent rule: %s", out)
	}
	broken := writeCheckout(t, map[string]string{".github/tend.yaml": "version: 1\nrules:\n  - name: x\n    reconciler: magic\n    paths: [a]\n"})
	if out, code, _ := e2e.Run(env, "plan", "--dir", broken); code != 1 || !strings.Contains(out, `.github/tend.yaml:4:17: rule "x": unknown reconciler "magic"`) {
		t.Errorf("broken config: code %d\n%s", code, out)
	}
	if out, code, _ := e2e.Run(env, "plan", "--help"); code != 0 || !strings.Contains(out, "-detailed-exitcode") {
		t.Errorf("plan --help: code %d\n%s", code, out)
	}
}
