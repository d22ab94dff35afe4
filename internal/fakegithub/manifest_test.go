package fakegithub

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-github/v89/github"
)

func TestManifestFlow(t *testing.T) {
	s := New(t)
	manifest, _ := json.Marshal(map[string]any{
		"name": "tend", "url": "https://example.com",
		"hook_attributes":     map[string]any{"url": "http://127.0.0.1:1/api/github/hook"},
		"redirect_url":        "http://127.0.0.1:1/setup/callback",
		"default_permissions": map[string]any{"contents": "write"},
	})
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.PostForm(s.WebURL()+"organizations/acme/settings/apps/new?state=s1", url.Values{"manifest": {string(manifest)}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || loc.Path != "/setup/callback" || loc.Query().Get("state") != "s1" {
		t.Fatalf("status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	code := loc.Query().Get("code")

	base := s.URL()
	gh, err := github.NewClient(github.WithURLs(&base, nil))
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := gh.Apps.CompleteAppManifest(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.GetID() != s.AppID() || cfg.GetPEM() != string(s.AppKeyPEM()) || cfg.GetWebhookSecret() == "" || cfg.GetOwner().GetLogin() != "acme" {
		t.Errorf("conversion = id %d owner %q secret %q", cfg.GetID(), cfg.GetOwner().GetLogin(), cfg.GetWebhookSecret())
	}
	regs := s.ManifestRegistrations()
	if len(regs) != 1 || !regs[0].Converted || regs[0].Org != "acme" || regs[0].Secret != cfg.GetWebhookSecret() {
		t.Errorf("registrations = %+v", regs)
	}
	// A code is good once.
	if _, resp, err := gh.Apps.CompleteAppManifest(context.Background(), code); err == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("second conversion: %v", err)
	}
}

func TestManifestFlowRefusesBadManifests(t *testing.T) {
	s := New(t)
	for _, body := range []string{"not json", `{"name":"x","url":"u","hook_attributes":{"url":"/relative"},"redirect_url":"http://h/cb","default_permissions":{}}`, `{"url":"u"}`} {
		resp, err := http.PostForm(s.WebURL()+"settings/apps/new", url.Values{"manifest": {body}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d", body, resp.StatusCode)
		}
	}
	if _, ok := newAppPage("/_fake/web/organizations//settings/apps/new"); ok {
		t.Error("an empty organisation was accepted")
	}
	if !strings.HasSuffix(s.WebURL(), "/_fake/web/") {
		t.Errorf("WebURL = %q", s.WebURL())
	}
}
