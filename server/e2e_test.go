package main

import (
	"io"

	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/testwait"

	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tend-app/tend/internal/e2e"
	"github.com/tend-app/tend/internal/fakegithub"
	"github.com/tend-app/tend/internal/fixtures"
)

// syncBuffer collects a child process's output for failure reports.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// webhookSecret is recognisable, like every secret of the e2e worlds
// (see checkNoSecrets).
const webhookSecret = "whsec-CANARY-e2e-3b9f1e7c"

const helloConfig = `version: 1
rules:
  - name: readme
    reconciler: agent
    paths: ["README.md", "docs/**/*.md"]
    prompt: "Keep the README short."
    edits: ["README.md", "docs/**"]
    on:
      issues: {label: bug}
      release: [self]
`

// world is a fake GitHub with one installed repository and a running tend.
type world struct {
	gh   *fakegithub.Server
	tend *e2e.Tend
	logs *syncBuffer
	// secrets are what must never appear in tend's output (checkNoSecrets).
	secrets []string
}

func startWorld(t *testing.T, env map[string]string, beforeStart ...func(gh *fakegithub.Server)) *world {
	t.Helper()
	gh := fakegithub.New(t)
	gh.AddInstallation(1, "Codertocat")
	gh.AddRepoWithFiles(1, "Codertocat/Hello-World", "master", map[string]string{
		"README.md":         "# Hello\n",
		"docs/guide.md":     "guide\n",
		".github/tend.yaml": helloConfig,
	})
	for _, f := range beforeStart {
		f(gh)
	}
	logs := &syncBuffer{}
	full := map[string]string{
		"GITHUB_APP_INTEGRATION_ID": strconv.FormatInt(gh.AppID(), 10),
		"GITHUB_APP_PRIVATE_KEY":    string(gh.AppKeyPEM()),
		"GITHUB_APP_WEBHOOK_SECRET": webhookSecret,
		"GITHUB_V3_API_URL":         gh.URL(),
		"TEND_SETTLE":               "0",
		"TEND_POLL_INTERVAL":        "50ms",
		"TEND_RETRY_BASE":           "100ms",
		"TEND_DATA_DIR":             t.TempDir(),
		"GITHUB_CLIENT_SECRET":      canaryClientSecret,
	}
	for k, v := range env {
		full[k] = v
	}
	tend, err := e2e.Start(e2e.Options{Env: full, Log: logs})
	if err != nil {
		t.Fatalf("%v\n%s", err, logs.String())
	}
	w := &world{gh: gh, tend: tend, logs: logs, secrets: secretsIn(full)}
	t.Cleanup(func() {
		if err := tend.Stop(); err != nil {
			t.Errorf("tend did not stop cleanly: %v", err)
		}
		w.checkNoSecrets(t)
		if t.Failed() || os.Getenv("TEND_TEST_LOG") != "" {
			t.Logf("tend output:\n%s", logs.String())
		}
	})
	return w
}

func (w *world) deliver(t *testing.T, event string, body []byte) e2e.Response {
	t.Helper()
	resp, err := w.tend.Deliver(context.Background(), event, e2e.NewDeliveryID(), body)
	if err != nil {
		t.Fatalf("deliver %s: %v", event, err)
	}
	return resp
}

// withInstallation returns the payload with "installation": {"id": id}
// added or replaced, since most examples carry none.
func withInstallation(t *testing.T, body []byte, id int64, edit func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	m["installation"] = map[string]any{"id": id, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="}
	if edit != nil {
		edit(m)
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Every example payload in @octokit/webhooks-examples, signed and posted to
// the running server process: 2xx, never 5xx, and the process stays up.
func TestEveryWebhookExample(t *testing.T) {
	examples, err := fixtures.WebhookExamples()
	if err != nil {
		t.Fatal(err)
	}
	w := startWorld(t, nil)
	statuses := map[int]int{}
	for _, ex := range examples {
		for _, body := range [][]byte{ex.Body, withInstallation(t, ex.Body, 1, nil)} {
			resp := w.deliver(t, ex.Event, body)
			statuses[resp.Status]++
			if resp.Status < 200 || resp.Status > 299 {
				t.Errorf("%s %s #%d: status %d: %s", ex.Event, ex.Action, ex.Index, resp.Status, resp.Body)
			}
		}
		if !w.tend.Alive() {
			t.Fatalf("tend died after %s %s #%d", ex.Event, ex.Action, ex.Index)
		}
	}
	t.Logf("%d examples x2 (as published, and with an installation): statuses %v", len(examples), statuses)
	if len(examples) < 300 {
		t.Errorf("only %d examples; the fixture looks truncated", len(examples))
	}
}

func example(t *testing.T, event, action string, pick func(m map[string]any) bool) []byte {
	t.Helper()
	examples, err := fixtures.WebhookExamples()
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range examples {
		if ex.Event != event || ex.Action != action {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(ex.Body, &m); err != nil {
			t.Fatal(err)
		}
		if pick == nil || pick(m) {
			return ex.Body
		}
	}
	t.Fatalf("no %s %s example", event, action)
	return nil
}

func wantKeys(t *testing.T, what string, resp e2e.Response, want ...string) {
	t.Helper()
	if resp.Status != http.StatusOK {
		t.Fatalf("%s: status %d: %s", what, resp.Status, resp.Body)
	}
	got := slices.Clone(resp.Summary.Keys)
	slices.Sort(got)
	slices.Sort(want)
	if len(want) == 0 {
		want = []string{}
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s: keys %v, want %v (answer %s)", what, got, want, resp.Body)
	}
}

// The examples that name a repository tend manages map to the keys the
// repository's config says, against a fake GitHub that serves the config.
func TestExamplesProduceExpectedKeys(t *testing.T) {
	w := startWorld(t, map[string]string{"TEND_WORKERS": "1"})
	const repo = "codertocat/hello-world"

	// push to the default branch creating it: nothing lists its files, so the
	// repository (config) and the push rules are resynced.
	created := example(t, "push", "", func(m map[string]any) bool { return m["ref"] == "refs/heads/master" })
	wantKeys(t, "push creating master", w.deliver(t, "push", withInstallation(t, created, 1, nil)), repo, repo+":readme")

	// an ordinary push listing its files.
	push := withInstallation(t, created, 1, func(m map[string]any) {
		m["before"] = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
		m["created"] = false
		m["commits"] = []any{map[string]any{"id": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "added": []any{"docs/new/page.md"}, "modified": []any{"README.md", "LICENSE"}, "removed": []any{"docs/guide.md"}}}
	})
	wantKeys(t, "push", w.deliver(t, "push", push), repo+":readme:README.md", repo+":readme:docs/new/page.md", repo+":readme:docs/guide.md")

	// a push touching the config resyncs the repository.
	cfgPush := withInstallation(t, push, 1, func(m map[string]any) {
		m["commits"] = []any{map[string]any{"id": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "modified": []any{".github/tend.yaml"}}}
	})
	wantKeys(t, "config push", w.deliver(t, "push", cfgPush), repo)

	// tags and other branches are not the default branch.
	tag := example(t, "push", "", func(m map[string]any) bool { return m["ref"] == "refs/tags/simple-tag" })
	wantKeys(t, "tag push", w.deliver(t, "push", withInstallation(t, tag, 1, nil)))

	// a published release of the repository: rules subscribed with "self".
	rel := example(t, "release", "published", nil)
	wantKeys(t, "release", w.deliver(t, "release", withInstallation(t, rel, 1, nil)), repo+":readme")

	// an issue carrying the rule's label is a request.
	issue := example(t, "issues", "opened", nil)
	var im map[string]any
	_ = json.Unmarshal(issue, &im)
	number := int(im["issue"].(map[string]any)["number"].(float64))
	issueKey := fmt.Sprintf("%s:readme#%d", repo, number)
	wantKeys(t, "issue opened", w.deliver(t, "issues", withInstallation(t, issue, 1, nil)), issueKey)
	wantKeys(t, "issue unlabeled", w.deliver(t, "issues", withInstallation(t, example(t, "issues", "unlabeled", nil), 1, nil)), issueKey)

	// comments: only /reconcile commands, only on managed issues or tend PRs.
	comment := example(t, "issue_comment", "created", nil)
	wantKeys(t, "plain comment", w.deliver(t, "issue_comment", withInstallation(t, comment, 1, nil)))
	cmd := withInstallation(t, comment, 1, func(m map[string]any) {
		m["comment"].(map[string]any)["body"] = "/reconcile make it shorter"
	})
	wantKeys(t, "command on a managed issue", w.deliver(t, "issue_comment", cmd), fmt.Sprintf("%s:readme#%d", repo, int(mustGet(t, cmd, "issue", "number").(float64))))

	// on a tend PR, the key comes from the state block of a body written by the bot.
	prKey := repo + ":readme:README.md"
	state := botpr.FormatState(botpr.State{Key: prKey, Hash: "h"})
	botPR := func(m map[string]any) {
		is := m["issue"].(map[string]any)
		is["pull_request"] = map[string]any{"url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/2"}
		is["user"] = map[string]any{"login": w.gh.BotLogin(), "type": "Bot", "id": 1}
		is["body"] = "Pins images.\n\n" + state
		m["comment"].(map[string]any)["body"] = "/reconcile"
	}
	wantKeys(t, "command on a tend PR", w.deliver(t, "issue_comment", withInstallation(t, comment, 1, botPR)), prKey)
	humanPR := withInstallation(t, comment, 1, func(m map[string]any) {
		botPR(m)
		m["issue"].(map[string]any)["user"] = map[string]any{"login": "mallory", "type": "User", "id": 2}
	})
	wantKeys(t, "state block in a PR not written by tend", w.deliver(t, "issue_comment", humanPR))
	byBot := withInstallation(t, comment, 1, func(m map[string]any) {
		botPR(m)
		m["comment"].(map[string]any)["user"] = map[string]any{"login": w.gh.BotLogin(), "type": "Bot", "id": 1}
	})
	wantKeys(t, "tend's own comment", w.deliver(t, "issue_comment", byBot))

	// pull_request events on tend's branch: people's changes count, tend's own do not.
	// Every new head commit of a PR also gets the key that checks the
	// config it may propose.
	prEv := withInstallation(t, example(t, "pull_request", "synchronize", nil), 1, func(m map[string]any) {
		pr := m["pull_request"].(map[string]any)
		pr["user"] = map[string]any{"login": w.gh.BotLogin(), "type": "Bot", "id": 1}
		pr["head"].(map[string]any)["ref"] = "tend/readme/README.md"
		pr["body"] = "Pins images.\n\n" + state
	})
	configKey := "codertocat/hello-world:tend-config#2"
	wantKeys(t, "human pushes to a tend PR", w.deliver(t, "pull_request", prEv), prKey, configKey)
	selfSync := withInstallation(t, prEv, 1, func(m map[string]any) {
		m["sender"] = map[string]any{"login": w.gh.BotLogin(), "type": "Bot", "id": 1}
	})
	wantKeys(t, "tend's own push", w.deliver(t, "pull_request", selfSync))
	wantKeys(t, "someone else's PR", w.deliver(t, "pull_request", withInstallation(t, example(t, "pull_request", "synchronize", nil), 1, nil)), configKey)

	// check runs: only tend's own (app id), key from external_id.
	cr := withInstallation(t, example(t, "check_run", "rerequested", nil), 1, func(m map[string]any) {
		m["repository"] = im["repository"]
		c := m["check_run"].(map[string]any)
		c["app"].(map[string]any)["id"] = w.gh.AppID()
		c["external_id"] = prKey
	})
	wantKeys(t, "tend check run re-run", w.deliver(t, "check_run", cr), prKey)
	wantKeys(t, "another app's check run", w.deliver(t, "check_run", withInstallation(t, example(t, "check_run", "rerequested", nil), 1, nil)))
	for id, want := range map[string][]string{"reconcile": {prKey}, "recreate": {prKey}, "self-destruct": nil} {
		action := withInstallation(t, cr, 1, func(m map[string]any) {
			m["action"] = "requested_action"
			m["requested_action"] = map[string]any{"identifier": id}
		})
		wantKeys(t, "button "+id, w.deliver(t, "check_run", action), want...)
	}
	for lbl, want := range map[string][]string{"tend/skip": {prKey}, "bug": nil} {
		unlabeled := withInstallation(t, prEv, 1, func(m map[string]any) {
			m["action"] = "unlabeled"
			m["label"] = map[string]any{"name": lbl}
		})
		wantKeys(t, "PR unlabeled "+lbl, w.deliver(t, "pull_request", unlabeled), want...)
	}

	// installations: the repositories added are resynced.
	inst := withInstallation(t, example(t, "installation_repositories", "added", nil), 1, nil)
	var added []string
	for _, r := range mustGet(t, inst, "repositories_added").([]any) {
		added = append(added, strings.ToLower(r.(map[string]any)["full_name"].(string)))
	}
	wantKeys(t, "repositories added", w.deliver(t, "installation_repositories", inst), added...)
}

func mustGet(t *testing.T, body []byte, path ...string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("no %v in payload", path)
		}
		v = m[p]
	}
	return v
}

// Signature, size, JSON and unknown-event handling.
func TestWebhookIntakeEdges(t *testing.T) {
	w := startWorld(t, nil)
	ctx := context.Background()
	body := example(t, "push", "", func(m map[string]any) bool { return m["ref"] == "refs/heads/master" })
	post := func(event string, body []byte, sig string) e2e.Response {
		resp, err := w.tend.Post(ctx, event, e2e.NewDeliveryID(), body, sig)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	for name, tc := range map[string]struct {
		event, sig string
		body       []byte
		want       int
	}{
		"missing signature":  {"push", "", body, 400},
		"wrong signature":    {"push", e2e.Sign("not-the-secret", body), body, 400},
		"garbage signature":  {"push", "sha256=zz", body, 400},
		"sha1 only":          {"push", "sha1=" + strings.Repeat("0", 40), body, 400},
		"malformed JSON":     {"push", e2e.Sign(webhookSecret, []byte(`{"ref": `)), []byte(`{"ref": `), 400},
		"JSON of wrong type": {"push", e2e.Sign(webhookSecret, []byte(`{"ref": 7}`)), []byte(`{"ref": 7}`), 400},
		"unknown event":      {"flux_capacitor", e2e.Sign(webhookSecret, body), body, 202},
		"ping":               {"ping", e2e.Sign(webhookSecret, []byte(`{"zen":"hi"}`)), []byte(`{"zen":"hi"}`), 200},
		"no event header":    {"", e2e.Sign(webhookSecret, body), body, 400},
	} {
		if got := post(tc.event, tc.body, tc.sig); got.Status != tc.want {
			t.Errorf("%s: status %d, want %d (%s)", name, got.Status, tc.want, got.Body)
		}
	}

	// Over 25 MB: refused by its declared length before it is read...
	huge := bytes.Repeat([]byte("a"), 25<<20+1)
	req, _ := http.NewRequest(http.MethodPost, w.tend.URL+"/api/github/hook", bytes.NewReader(huge))
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-Hub-Signature-256", e2e.Sign(webhookSecret, huge))
	req.Header.Set("Content-Type", "application/json")
	if resp, err := w.tend.Do(req); err != nil || resp.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("25 MB + 1 with Content-Length: %+v %v", resp.Status, err)
	}
	// ...and cut off at the limit when the length is not declared.
	pr, pw := io.Pipe()
	go func() {
		chunk := bytes.Repeat([]byte("a"), 1<<20)
		for i := 0; i < 27; i++ {
			if _, err := pw.Write(chunk); err != nil {
				break
			}
		}
		pw.Close()
	}()
	req, _ = http.NewRequest(http.MethodPost, w.tend.URL+"/api/github/hook", pr)
	req.ContentLength = -1
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64))
	req.Header.Set("Content-Type", "application/json")
	if resp, err := w.tend.Do(req); err != nil || resp.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked over 25 MB: %+v %v", resp.Status, err)
	}

	// A redelivery (same X-GitHub-Delivery) is not enqueued twice.
	push := withInstallation(t, body, 1, func(m map[string]any) {
		m["before"] = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
		m["created"] = false
		m["commits"] = []any{map[string]any{"id": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "modified": []any{"README.md"}}}
	})
	id := e2e.NewDeliveryID()
	first, err := w.tend.Deliver(ctx, "push", id, push)
	if err != nil || first.Status != 200 || first.Summary.Inserted+first.Summary.Collapsed != 1 || first.Summary.Duplicate {
		t.Fatalf("first delivery: %+v %v", first, err)
	}
	again, err := w.tend.Deliver(ctx, "push", id, push)
	if err != nil || again.Status != 200 || !again.Summary.Duplicate || again.Summary.Inserted+again.Summary.Collapsed != 0 {
		t.Errorf("redelivery: %+v %v; want duplicate, nothing enqueued", again.Summary, err)
	}
	if !w.tend.Alive() {
		t.Fatal("tend died")
	}
}

// Without credentials tend starts, serves a setup page and health, and
// answers webhooks with 503 and a clear message.
func TestSetupMode(t *testing.T) {
	logs := &syncBuffer{}
	tend, err := e2e.Start(e2e.Options{Env: map[string]string{"TEND_DATA_DIR": t.TempDir()}, Log: logs})
	if err != nil {
		t.Fatalf("%v\n%s", err, logs.String())
	}
	defer tend.Stop()
	get := func(path string) (int, string) {
		resp, err := tend.Client().Get(tend.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	if code, body := get("/"); code != 200 || !strings.Contains(body, "not connected to GitHub yet") || !strings.Contains(body, "GITHUB_APP_INTEGRATION_ID") {
		t.Errorf("setup page: %d %q", code, body)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz: %d", code)
	}
	if code, _ := get("/readyz"); code != 200 {
		t.Errorf("/readyz: %d", code)
	}
	resp, err := tend.Post(context.Background(), "push", e2e.NewDeliveryID(), []byte(`{}`), "")
	if err != nil || resp.Status != http.StatusServiceUnavailable || !strings.Contains(string(resp.Body), "GITHUB_APP_WEBHOOK_SECRET") {
		t.Errorf("webhook in setup mode: %d %q %v", resp.Status, resp.Body, err)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, "go_goroutines") {
		t.Errorf("/metrics: %d", code)
	}
	if _, err := os.Stat(tend.DataDir + "/tend.db"); err != nil {
		t.Errorf("database not created in TEND_DATA_DIR: %v", err)
	}
	if err := tend.Stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
}

// The queue UI is served to operators with the admin password only.
func TestRiverUIBehindPassword(t *testing.T) {
	w := startWorld(t, map[string]string{"TEND_ADMIN_PASSWORD": "s3cret-admin"})
	get := func(user, pass, path string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, w.tend.URL+path, nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := w.tend.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	if code, _ := get("", "", "/riverui/"); code != http.StatusUnauthorized {
		t.Errorf("no credentials: %d", code)
	}
	if code, _ := get("admin", "wrong", "/riverui/"); code != http.StatusUnauthorized {
		t.Errorf("wrong password: %d", code)
	}
	if code, body := get("admin", "s3cret-admin", "/riverui/"); code != http.StatusOK || !strings.Contains(strings.ToLower(body), "<html") {
		t.Errorf("admin: %d", code)
	}
	if code, body := get("admin", "s3cret-admin", "/riverui/api/jobs?state=available&limit=5"); code != http.StatusOK || !strings.Contains(body, "data") {
		t.Errorf("admin API: %d %s", code, body)
	}
	if strings.Contains(w.logs.String(), "s3cret-admin") {
		t.Errorf("the admin password reached the logs")
	}
}

// When the config cannot be read while a delivery comes in (GitHub failing),
// the delivery is not lost: the repository is enqueued for a full resync,
// which reaches every rule's paths once GitHub answers again.
func TestUnmappedEventResyncsRepository(t *testing.T) {
	// GitHub fails every file read from before tend starts (so that its
	// first discovery cannot cache the config either) until the push has
	// been taken in.
	w := startWorld(t, nil, func(gh *fakegithub.Server) {
		gh.Fail("GET", "/repos/{owner}/{repo}/contents/{path}", -1, 502, nil)
	})
	body := withInstallation(t, example(t, "push", "", func(m map[string]any) bool { return m["ref"] == "refs/heads/master" }), 1, func(m map[string]any) {
		m["before"] = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
		m["created"] = false
		m["commits"] = []any{map[string]any{"id": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "modified": []any{"README.md"}}}
	})
	wantKeys(t, "push while the config is unreadable", w.deliver(t, "push", body), "codertocat/hello-world")
	w.gh.ClearFaults()
	// The agent has no credentials here, so each path run reports that in a
	// failing check run: one per path proves the resync reached them all.
	reached := testwait.Until(30*time.Second, func() bool {
		n := 0
		for _, c := range w.gh.CheckRuns("Codertocat/Hello-World") {
			if c.Name == "tend / readme" && (c.ExternalID == "codertocat/hello-world:readme:README.md" || c.ExternalID == "codertocat/hello-world:readme:docs/guide.md") {
				n++
			}
		}
		return n == 2
	})
	if !reached {
		t.Fatalf("the resync did not reach the rule's paths: %+v", w.gh.CheckRuns("Codertocat/Hello-World"))
	}
}
