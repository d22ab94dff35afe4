package main

import (
	"strings"
	"testing"
	"time"

	"github.com/tend-app/tend/internal/testwait"

	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/fakegemini"
)

// Recognisable fake secrets every end-to-end world runs with. The App's
// private key is the fake's own (its PEM lines are recognisable enough),
// installation tokens are the fake's (IssuedTokens).
const (
	canaryClientSecret = "client-secret-CANARY-5d1e9b7a"
	canaryModelKey     = "model-key-CANARY-8c2f4e61"
)

// secretEnv names the environment variables whose values are secrets.
var secretEnv = []string{"GITHUB_APP_PRIVATE_KEY", "GITHUB_APP_WEBHOOK_SECRET", "GITHUB_CLIENT_SECRET", "GEMINI_API_KEY", "TEND_ADMIN_PASSWORD"}

// secretsIn returns the recognisable pieces of the secrets in env: each
// value, and for a PEM each line of its body (a leaked key is usually a
// leaked fragment).
func secretsIn(env map[string]string) []string {
	var out []string
	for _, name := range secretEnv {
		v := env[name]
		if len(v) < 8 {
			continue
		}
		if !strings.Contains(v, "-----BEGIN") {
			out = append(out, v)
			continue
		}
		for _, line := range strings.Split(v, "\n") {
			if len(line) >= 40 && !strings.HasPrefix(line, "-----") {
				out = append(out, line)
			}
		}
	}
	return out
}

// checkNoSecrets scans everything tend produced in the world — every log
// line, and every PR title and body, comment, check run output, annotation
// and commit message in the fake GitHub — for the world's secrets and every
// token the fake issued.
func (w *world) checkNoSecrets(t *testing.T) {
	t.Helper()
	secrets := append(append([]string(nil), w.secrets...), w.gh.IssuedTokens()...)
	texts := map[string]string{"tend's log": w.logs.String()}
	for _, p := range w.gh.Produced() {
		texts[p.Where] = p.Text
	}
	for where, text := range texts {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("a secret (%.6s…) leaked into %s", s, where)
			}
		}
	}
	if len(secrets) < 3 {
		t.Errorf("only %d secrets to look for: the canaries are not set", len(secrets))
	}
}

// Every kind of output, on success and on failure paths, with every secret
// set to a recognisable value: an images PR, a failing config check run, an
// agent PR, an agent run whose model fails, and GitHub answering errors
// (whose messages tend logs). The scan itself runs at the end of every
// end-to-end world (checkNoSecrets); this test makes sure the failure paths
// are among them.
func TestSecretsNeverLeak(t *testing.T) {
	reg := newRegistry(t)
	appRef := reg.ref("acme/app", "1.0")
	appDigest := reg.push(t, "acme/app", "1.0", false)
	script := []fakegemini.Turn{
		fakegemini.Call("read_file", map[string]any{"path": "docs/a.md"}),
		fakegemini.Call("edit_file", map[string]any{"path": "docs/a.md", "old_text": "Text.\n", "new_text": "Text.\n\nReviewed.\n"}),
		fakegemini.Call("submit", map[string]any{"title": "Mark docs/a.md reviewed", "summary": "Adds the closing line."}),
	}
	for range 40 { // however often the failing run is retried
		script = append(script, fakegemini.Error(400, nil, "API key not valid. Please pass a valid API key."))
	}
	gem := fakegemini.New(t, script...)
	gem.AllowLeftover()
	cfg := imagesConfig + "  - {name: docs, reconciler: agent, paths: [\"docs/*.md\"], prompt: \"Every doc ends with a line 'Reviewed.'\"}\n"
	w := newWorld(t, reg, worldOptions{repo: "acme/web", webhooks: true,
		files: map[string]string{".github/tend.yaml": cfg, "README.md": "hi\n"},
		env:   map[string]string{"GEMINI_API_KEY": canaryModelKey, "GOOGLE_GEMINI_BASE_URL": gem.URL(), "TEND_MODEL": "gemini-e2e"},
	})
	w.gh.Commit("acme/web", "main", map[string]string{"docs/a.md": "# A\n\nText.\n", "deploy/app.yaml": deployment(appRef)}, nil, "alice", "Add a doc and the app")
	w.settle(t)
	if got, _ := w.gh.File("acme/web", botpr.BranchName(mustKey(t, "acme/web:pin-images:deploy/app.yaml")), "deploy/app.yaml"); got != deployment(appRef+"@"+appDigest) {
		t.Errorf("images PR content %q", got)
	}
	if got, _ := w.gh.File("acme/web", botpr.BranchName(mustKey(t, "acme/web:docs:docs/a.md")), "docs/a.md"); got != "# A\n\nText.\n\nReviewed.\n" {
		t.Errorf("agent PR content %q", got)
	}
	// A second doc: the model now fails, and GitHub answers a burst of
	// errors; then an invalid config is pushed.
	w.gh.Fail("POST", "/repos/{owner}/{repo}/git/trees", 2, 502, nil)
	w.gh.Commit("acme/web", "main", map[string]string{"docs/b.md": "# B\n"}, nil, "alice", "Add another doc")
	w.settle(t)
	w.gh.Commit("acme/web", "main", map[string]string{".github/tend.yaml": "version: 1\nrules: [{name: Bad!}]\n"}, nil, "alice", "Break the config")
	w.settle(t)
	testwait.For(t, 10*time.Second, func() bool {
		for _, c := range w.gh.CheckRuns("acme/web") {
			if c.Name == "tend / config" && c.Conclusion == "failure" {
				return true
			}
		}
		return false
	}, "a failing config check run")
	produced := w.gh.Produced()
	if len(produced) < 8 {
		t.Errorf("only %d texts produced; the scenario did not run", len(produced))
	}
	if len(w.gh.IssuedTokens()) == 0 {
		t.Errorf("the fake issued no tokens")
	}
	t.Logf("scanned %d texts, %d bytes of log, for %d secrets and %d tokens", len(produced), len(w.logs.String()), len(w.secrets), len(w.gh.IssuedTokens()))
}
