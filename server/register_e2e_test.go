package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tend-app/tend/internal/e2e"
	"github.com/tend-app/tend/internal/fakegithub"
)

// One-click registration in a real browser: the setup page posts app.yml's
// manifest to the fake GitHub, which redirects back with a code; tend
// exchanges it, stores github-app.json with mode 0600 and serves webhooks
// signed with the new secret without a restart. A restart then starts from
// the file.
func TestRegisterAppInBrowser(t *testing.T) {
	ctx := browser(t)
	gh := fakegithub.New(t)
	dataDir := t.TempDir()
	env := map[string]string{
		"GITHUB_V3_API_URL":   gh.URL(),
		"GITHUB_WEB_URL":      gh.WebURL(),
		"TEND_DATA_DIR":       dataDir,
		"TEND_SETTLE":         "0",
		"TEND_POLL_INTERVAL":  "50ms",
		"TEND_ADMIN_PASSWORD": "admin-pw",
	}
	logs := &syncBuffer{}
	tend, err := e2e.Start(e2e.Options{Env: env, Log: logs})
	if err != nil {
		t.Fatalf("%v\n%s", err, logs.String())
	}
	t.Cleanup(func() {
		tend.Stop()
		if t.Failed() {
			t.Logf("tend output:\n%s", logs.String())
		}
	})

	sctx, cancel := step(ctx)
	defer cancel()
	if err := chromedp.Do(sctx, chromedp.Navigate(tend.URL+"/"), chromedp.WaitVisible(chromedp.ID("register"))); err != nil {
		t.Fatal(err)
	}
	setupText, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "setup")
	if !strings.Contains(setupText, "not connected to GitHub yet") || !strings.Contains(setupText, "GitHub cannot reach") {
		t.Errorf("setup page text: %q", setupText)
	}
	if err := chromedp.Do(sctx,
		chromedp.SendKeys(chromedp.ID("org"), "acme"),
		chromedp.Click(chromedp.ID("register")),
		chromedp.WaitVisible(chromedp.ID("install")),
	); err != nil {
		t.Fatalf("%v\n%s", err, logs.String())
	}
	doneText, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatal(err)
	}
	install, err := chromedp.Run(sctx, chromedp.AttributeValue(chromedp.ID("install"), "href"))
	if err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "registered")
	if !strings.Contains(doneText, "is registered") || install.Value != gh.WebURL()+"apps/tend/installations/new" {
		t.Errorf("success page: %q, install link %q", doneText, install.Value)
	}

	regs := gh.ManifestRegistrations()
	if len(regs) != 1 || !regs[0].Converted || regs[0].Org != "acme" || len(regs[0].State) < 32 {
		t.Fatalf("registrations at the fake: %+v", regs)
	}
	m := regs[0].Manifest
	hook, _ := m["hook_attributes"].(map[string]any)
	events, _ := m["default_events"].([]any)
	if hook["url"] != tend.URL+"/api/github/hook" || m["redirect_url"] != tend.URL+"/setup/callback" || m["public"] != false || !slices.Contains(events, any("push")) {
		t.Errorf("manifest = %v", m)
	}

	checkAppFile(t, dataDir, gh.AppID(), regs[0].Secret)
	if strings.Contains(logs.String(), regs[0].Secret) || strings.Contains(logs.String(), "PRIVATE KEY") {
		t.Error("a secret of the registered App reached the logs")
	}

	// The state was single-use.
	resp, err := tend.Client().Get(tend.URL + "/setup/callback?code=" + regs[0].Code + "&state=" + regs[0].State)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("reused state: %d", resp.StatusCode)
	}

	// Webhooks signed with the new secret are served now: the fake sends
	// them to the manifest's hook URL.
	gh.AddInstallation(5, "acme")
	if err := gh.WaitWebhooksDelivered(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	ds := gh.Deliveries()
	if len(ds) != 1 || ds[0].Event != "installation" || ds[0].Status/100 != 2 {
		t.Errorf("deliveries = %+v", ds)
	}
	tend.Secret = "not-the-secret"
	if r, err := tend.Deliver(context.Background(), "ping", e2e.NewDeliveryID(), []byte(`{"zen":"x"}`)); err != nil || r.Status != http.StatusBadRequest {
		t.Errorf("a delivery signed with another secret: %d %v", r.Status, err)
	}

	// After a restart tend starts from the file.
	if err := tend.Stop(); err != nil {
		t.Fatal(err)
	}
	tend, err = e2e.Start(e2e.Options{Env: env, Log: logs})
	if err != nil {
		t.Fatalf("%v\n%s", err, logs.String())
	}
	tend.Secret = regs[0].Secret
	if r, err := tend.Deliver(context.Background(), "ping", e2e.NewDeliveryID(), []byte(`{"zen":"x","hook_id":1}`)); err != nil || r.Status/100 != 2 {
		t.Errorf("after restart: %d %s %v", r.Status, r.Body, err)
	}
}

func checkAppFile(t *testing.T, dir string, appID int64, secret string) {
	t.Helper()
	path := filepath.Join(dir, appFileName)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", path, fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f appFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if f.ID != appID || f.WebhookSecret != secret || !strings.Contains(f.PrivateKey, "PRIVATE KEY") || f.Slug != "tend" || f.ClientSecret == "" {
		t.Errorf("github-app.json: id %d slug %q", f.ID, f.Slug)
	}
}
