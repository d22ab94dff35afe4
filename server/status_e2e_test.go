package main

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tend-app/tend/internal/e2e"
	"github.com/tend-app/tend/internal/testwait"
)

const statusPassword = "status-pw"

// The operator page and the metrics after a real run: a PR opened, a key
// dead-lettered, a repository with a broken config. The page shows each,
// behind the admin password, and its Retry button re-drives the dead
// letter. /metrics then has every family operators alert on.
func TestStatusPageAndMetrics(t *testing.T) {
	reg := newRegistry(t)
	reg.push(t, "acme/app", "1.0", false)
	w := newWorld(t, reg, worldOptions{
		repo: "acme/web", webhooks: true,
		files: map[string]string{".github/tend.yaml": imagesConfig, "README.md": "web\n"},
		env:   map[string]string{"TEND_ADMIN_PASSWORD": statusPassword, "TEND_MAX_ATTEMPTS": "1"},
	})
	w.gh.Commit("acme/web", "main", map[string]string{"deploy/app.yaml": deployment(reg.ref("acme/app", "1.0"))}, nil, "alice", "Add the app")
	w.settle(t)
	prs := w.openPRs()
	if len(prs) != 1 {
		t.Fatalf("open PRs: %+v", prs)
	}
	w.gh.AddRepoWithFiles(7, "acme/broken", "main", map[string]string{".github/tend.yaml": "version: 1\nrules:\n  - name: x\n    reconciler: magic\n    paths: [a]\n"})
	w.enqueue(t, "acme/broken")
	w.settle(t) // acme/broken's runs are done before the fault below
	// A key whose runs fail: with one attempt it is dead-lettered at once.
	// The fault is acme/web's alone, so no other repository's run can be
	// dead-lettered by it.
	w.gh.Fail("GET", "/repos/acme/web/branches/*", -1, 500, nil)
	if out, code, err := e2e.Run(map[string]string{"TEND_DATA_DIR": w.tend.DataDir, "TEND_MAX_ATTEMPTS": "1"}, "enqueue", "acme/web:pin-images:Dockerfile"); err != nil || code != 0 {
		t.Fatalf("enqueue: %d %v %s", code, err, out)
	}
	testwait.For(t, 30*time.Second, func() bool {
		dead, err := w.queue(t).DeadLetters(context.Background())
		return err == nil && len(dead) == 1
	}, "a dead letter")
	w.gh.ClearFaults()
	w.enqueue(t, "acme/web") // a second config read: a 304 from the cache
	w.settle(t)
	// An operator's enqueue resyncs every rule though the config is unchanged.
	if st, err := w.queue(t).KeyState(context.Background(), "acme/web"); err != nil || st.LastOutcome != "config-loaded" {
		t.Errorf("enqueue owner/repo: outcome %q, %v", st.LastOutcome, err)
	}

	if code, _ := statusGet(t, w, "", "/status"); code != http.StatusUnauthorized {
		t.Errorf("/status without the password: %d", code)
	}
	code, page := statusGet(t, w, statusPassword, "/status")
	if code != http.StatusOK {
		t.Fatalf("/status: %d %s", code, page)
	}
	for _, want := range []string{
		"acme/web:pin-images:deploy/app.yaml", ">#1</a>", "https://github.com/acme/web/pull/" + strconv.Itoa(prs[0].Number),
		"acme/web:pin-images:Dockerfile", `action="/status/retry"`, "1 dead-lettered",
		"acme/broken", "unknown reconciler", "of 5000 left", "<td>acme</td>", ">1</td><td>10</td><td>0</td>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("/status lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("/status:\n%s", page)
	}

	retryFromStatusPage(t, w)
	testwait.For(t, 30*time.Second, func() bool {
		dead, err := w.queue(t).DeadLetters(context.Background())
		return err == nil && len(dead) == 0
	}, "the retried key to leave the dead letters")
	checkMetricFamilies(t, w)
}

// retryFromStatusPage presses Retry in a browser (and saves a screenshot
// of /status); without Chromium it posts the form the same way. A
// cross-site post is refused either way.
func retryFromStatusPage(t *testing.T, w *liveWorld) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, w.tend.URL+"/status/retry", strings.NewReader(url.Values{"key": {"acme/web:pin-images:Dockerfile"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.SetBasicAuth("admin", statusPassword)
	if resp, err := w.tend.Do(req); err != nil || resp.Status != http.StatusForbidden {
		t.Errorf("cross-site retry: %d %v", resp.Status, err)
	}
	ctx := maybeBrowser(t)
	if ctx == nil {
		req, _ := http.NewRequest(http.MethodPost, w.tend.URL+"/status/retry", strings.NewReader(url.Values{"key": {"acme/web:pin-images:Dockerfile"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("admin", statusPassword)
		if resp, err := w.tend.Do(req); err != nil || resp.Status != http.StatusSeeOther && resp.Status != http.StatusOK {
			t.Fatalf("retry: %d %v", resp.Status, err)
		}
		return
	}
	u, _ := url.Parse(w.tend.URL + "/status")
	u.User = url.UserPassword("admin", statusPassword)
	sctx, cancel := step(ctx)
	defer cancel()
	if err := chromedp.Do(sctx, chromedp.Navigate(u.String()), chromedp.WaitVisible(chromedp.CSS(`form[action="/status/retry"] button`))); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "status")
	if err := chromedp.Do(sctx, chromedp.Click(chromedp.CSS(`form[action="/status/retry"] button`)), chromedp.WaitVisible(chromedp.CSS("p.note"))); err != nil {
		t.Fatal(err)
	}
	note, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS("p.note")))
	if err != nil || !strings.Contains(note, "acme/web:pin-images:Dockerfile") {
		t.Errorf("after Retry: %q %v", note, err)
	}
}

func checkMetricFamilies(t *testing.T, w *liveWorld) {
	t.Helper()
	_, metrics := statusGet(t, w, "", "/metrics")
	for _, want := range []string{
		`tend_queue_jobs{state="completed"}`, `tend_queue_jobs{state="available"}`,
		"tend_queue_oldest_pending_seconds ", "tend_queue_dead_letters ",
		`tend_github_requests_total{family="pulls",status="201"}`, `tend_github_requests_total{family="contents",status="304"}`,
		`tend_github_not_modified_total{family="contents"}`, `tend_github_rate_limit_remaining{installation="7"}`,
		`tend_webhook_deliveries_total{event="push",outcome="accepted"}`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// Bounded labels: nothing names a key, a path or a repository.
	for _, line := range strings.Split(metrics, "\n") {
		if strings.HasPrefix(line, "tend_") && (strings.Contains(line, "acme") || strings.Contains(line, "deploy/")) {
			t.Errorf("unbounded label: %s", line)
		}
	}
}

func statusGet(t *testing.T, w *liveWorld, password, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, w.tend.URL+path, nil)
	if password != "" {
		req.SetBasicAuth("admin", password)
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
