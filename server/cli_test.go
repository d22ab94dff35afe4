package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tend-app/tend/internal/e2e"
	"github.com/tend-app/tend/internal/testwait"
)

func TestValidateCommand(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(good, []byte(helloConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("version: 1\nrules:\n  - name: a\n    reconciler: magic\n    paths: [\"[\"]\n    colour: blue\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code, err := e2e.Run(nil, "validate", good)
	if err != nil || code != 0 || !strings.Contains(out, "ok (1 rules)") {
		t.Errorf("validate good: code %d, %q, %v", code, out, err)
	}
	out, code, err = e2e.Run(nil, "validate", good, bad)
	if err != nil || code != 1 {
		t.Fatalf("validate bad: code %d, %v", code, err)
	}
	for _, want := range []string{
		bad + `:4:17: rule "a": unknown reconciler "magic"`,
		bad + `:5:13: rule "a".paths: glob "[" is not a valid pattern`,
		bad + `:6:5: rule "a": unknown field "colour"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("validate output lacks %q:\n%s", want, out)
		}
	}
	if _, code, _ := e2e.Run(nil, "validate"); code != 2 {
		t.Errorf("validate with no files: code %d, want 2 (usage)", code)
	}
	if _, code, _ := e2e.Run(nil, "frobnicate"); code != 2 {
		t.Errorf("unknown command: code %d, want 2", code)
	}
}

// The whole pipeline in the real process: an installation event becomes a
// repository key, its run loads the config and fans out to the rule, the
// rule lists its paths, and each path runs. GitHub fails every branch read,
// so the path keys exhaust their attempts and land in the dead letters,
// which the dlq command lists and re-drives while the server runs.
func TestPipelineAndDeadLetters(t *testing.T) {
	w := startWorld(t, map[string]string{"TEND_MAX_ATTEMPTS": "2"})
	w.gh.Fail("GET", "/repos/{owner}/{repo}/branches/{branch}", -1, 500, nil)
	body := []byte(`{"action":"added","installation":{"id":1},"repository_selection":"selected","repositories_added":[{"id":1,"full_name":"Codertocat/Hello-World","name":"Hello-World"}],"repositories_removed":[],"sender":{"login":"Codertocat","type":"User"}}`)
	resp := w.deliver(t, "installation_repositories", body)
	wantKeys(t, "installation", resp, "codertocat/hello-world")

	env := map[string]string{"TEND_DATA_DIR": w.tend.DataDir}
	want := []string{"codertocat/hello-world:readme:README.md", "codertocat/hello-world:readme:docs/guide.md"}
	var out string
	var listErr error
	dlqList := func() string {
		o, code, err := e2e.Run(env, "dlq", "list")
		if err == nil && code != 0 {
			err = fmt.Errorf("exit code %d", code)
		}
		if err != nil && listErr == nil {
			listErr = fmt.Errorf("dlq list: %w\n%s", err, o)
		}
		return o
	}
	listed := testwait.Until(60*time.Second, func() bool {
		out = dlqList()
		return listErr != nil || (strings.Contains(out, want[0]) && strings.Contains(out, want[1]))
	})
	if listErr != nil {
		t.Fatal(listErr)
	}
	if !listed {
		t.Fatalf("dlq list did not show both dead keys within 60s:\n%s", out)
	}
	if !strings.Contains(out, "discarded") || !strings.Contains(out, "500") {
		t.Errorf("dlq list does not show the state and error:\n%s", out)
	}
	// GitHub recovers; the operator re-drives one key, which now completes.
	w.gh.ClearFaults()
	out, code, err := e2e.Run(env, "dlq", "retry", want[0])
	if err != nil || code != 0 || !strings.Contains(out, "requeued") {
		t.Fatalf("dlq retry: %d %v %s", code, err, out)
	}
	redriven := testwait.Until(30*time.Second, func() bool {
		out = dlqList()
		return listErr != nil || (!strings.Contains(out, want[0]) && strings.Contains(out, want[1]))
	})
	if listErr != nil {
		t.Fatal(listErr)
	}
	if !redriven {
		t.Fatalf("the re-driven key did not complete within 30s:\n%s", out)
	}
	if _, code, _ := e2e.Run(env, "dlq", "retry", "codertocat/hello-world:readme:nope.md"); code != 1 {
		t.Errorf("re-driving a key without dead letters: code %d, want 1", code)
	}
}

// Every subcommand explains itself with --help, without touching files or
// the database, and the program calls itself tend.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"validate", "--help"}, {"validate", "-h"}, {"dlq", "--help"}, {"enqueue", "--help"}, {"serve", "--help"}, {"help", "validate"}} {
		out, code, err := e2e.Run(map[string]string{"TEND_DATA_DIR": t.TempDir()}, args...)
		if err != nil || code != 0 || !strings.Contains(out, "usage: tend") || strings.Contains(out, "server ") {
			t.Errorf("%v: code %d: %q %v", args, code, out, err)
		}
		if len(args) > 1 && args[0] == "validate" && strings.Contains(out, "no such file") {
			t.Errorf("%v opened a file: %q", args, out)
		}
	}
	out, code, _ := e2e.Run(nil, "validate", "--", "--help")
	if code != 1 || !strings.Contains(out, "--help") {
		t.Errorf("validate -- --help must read a file named --help: %d %q", code, out)
	}
}

// A private key that cannot sign stops tend at once with a clear message,
// and nothing is logged after "tend stopped".
func TestBadPrivateKey(t *testing.T) {
	out, code, err := e2e.Run(map[string]string{
		"TEND_DATA_DIR": t.TempDir(), "TEND_ADDR": "127.0.0.1:0", "GITHUB_APP_INTEGRATION_ID": "1",
		"GITHUB_APP_WEBHOOK_SECRET": "s", "GITHUB_APP_PRIVATE_KEY": "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----",
	})
	if err != nil || code != 1 {
		t.Fatalf("code %d, %v: %s", code, err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1]
	if !strings.Contains(last, "tend stopped") || !strings.Contains(last, "not an RSA private key") {
		t.Errorf("last line: %q\n%s", last, out)
	}
	if strings.Contains(out, "AAAA") {
		t.Error("the key reached the output")
	}
}
