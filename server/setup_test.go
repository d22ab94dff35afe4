package main

import (
	"crypto/tls"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tend-app/tend/internal/fakegithub"
)

func TestPublicURL(t *testing.T) {
	a := &app{s: &settings{}}
	r := httptest.NewRequest("GET", "http://tend.internal:8080/", nil)
	if got := a.publicURL(r); got != "http://tend.internal:8080" {
		t.Errorf("plain: %q", got)
	}
	r.Header.Set("X-Forwarded-Proto", "https, http")
	r.Header.Set("X-Forwarded-Host", "tend.example.org, proxy.local")
	if got := a.publicURL(r); got != "https://tend.example.org" {
		t.Errorf("forwarded: %q", got)
	}
	r.Header.Set("X-Forwarded-Proto", "javascript")
	if got := a.publicURL(r); got != "http://tend.example.org" {
		t.Errorf("bad forwarded proto: %q", got)
	}
	r = httptest.NewRequest("GET", "https://tend.example.org/", nil)
	r.TLS = &tls.ConnectionState{}
	if got := a.publicURL(r); got != "https://tend.example.org" {
		t.Errorf("TLS: %q", got)
	}
	a.s.PublicURL = "https://public.example"
	if got := a.publicURL(r); got != "https://public.example" {
		t.Errorf("TEND_PUBLIC_URL: %q", got)
	}
	for u, want := range map[string]bool{"http://127.0.0.1:8080": true, "http://localhost": true, "http://[::1]:80": true, "http://0.0.0.0:8080": true, "https://tend.example.org": false, "http://10.0.0.5": false} {
		if isLocal(u) != want {
			t.Errorf("isLocal(%q) = %v", u, !want)
		}
	}
}

func TestRegistrationStatesAreSingleUse(t *testing.T) {
	r := newRegistration()
	s1, err := r.issue()
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := r.issue()
	if s1 == s2 || len(s1) != 64 {
		t.Fatalf("states %q %q", s1, s2)
	}
	if r.take("") || r.take("forged") {
		t.Error("an unknown state was accepted")
	}
	if !r.take(s1) || r.take(s1) {
		t.Error("a state must be accepted exactly once")
	}
	for range maxStates {
		if _, err := r.issue(); err != nil {
			if r.count.Load() < maxStates {
				t.Fatalf("refused below the bound: %v", err)
			}
			return
		}
	}
	t.Error("states grew without bound")
}

func TestNewAppURL(t *testing.T) {
	if got := newAppURL("https://github.com/", "", "s"); got != "https://github.com/settings/apps/new?state=s" {
		t.Error(got)
	}
	if got := newAppURL("https://ghe.example/", "my-org", "a b"); got != "https://ghe.example/organizations/my-org/settings/apps/new?state=a+b" {
		t.Error(got)
	}
}

// The file fills in only what the environment left unset, is written 0600
// and never replaced.
func TestAppFileEnvironmentWins(t *testing.T) {
	dir := t.TempDir()
	f := &appFile{ID: 42, Slug: "my-tend", PrivateKey: "file-key", WebhookSecret: "file-secret", ClientID: "cid"}
	if err := writeAppFile(dir, f); err != nil {
		t.Fatal(err)
	}
	if err := writeAppFile(dir, f); err == nil {
		t.Error("an existing github-app.json was replaced")
	}
	fi, err := os.Stat(filepath.Join(dir, appFileName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode: %v %v", fi, err)
	}
	t.Setenv("TEND_DATA_DIR", dir)
	t.Setenv("GITHUB_APP_WEBHOOK_SECRET", "env-secret")
	s, err := loadSettings()
	if err != nil {
		t.Fatal(err)
	}
	app := s.GitHub.App
	if app.IntegrationID != 42 || app.PrivateKey != "file-key" || app.WebhookSecret != "env-secret" || s.AppSlug != "my-tend" || s.GitHub.OAuth.ClientID != "cid" {
		t.Errorf("settings = %+v slug %q", app, s.AppSlug)
	}
	if err := os.WriteFile(filepath.Join(dir, appFileName), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadSettings(); err == nil {
		t.Error("a corrupt github-app.json was accepted")
	}
}

func TestCheckPrivateKey(t *testing.T) {
	if err := checkPrivateKey("not a key"); err == nil {
		t.Error("garbage accepted")
	}
	if err := checkPrivateKey("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"); err == nil {
		t.Error("a broken PEM accepted")
	}
	_, pemKey := fakegithub.GenerateAppKey()
	if err := checkPrivateKey(string(pemKey)); err != nil {
		t.Errorf("a good key refused: %v", err)
	}
}

func TestRegistryHost(t *testing.T) {
	for web, want := range map[string]string{"https://github.com/": "ghcr.io", "https://ghe.example.com/": "containers.ghe.example.com", "": "ghcr.io"} {
		if got := registryHost(web); got != want {
			t.Errorf("registryHost(%q) = %q, want %q", web, got, want)
		}
	}
}

// TEND_GITHUB_TIMEOUT is a Go duration, 30s when unset; anything else is
// refused with the variable's name.
func TestGitHubTimeoutSetting(t *testing.T) {
	t.Setenv("TEND_DATA_DIR", t.TempDir())
	s, err := loadSettings()
	if err != nil {
		t.Fatal(err)
	}
	if s.GitHubTimeout != 30*time.Second {
		t.Errorf("default %s, want 30s", s.GitHubTimeout)
	}
	t.Setenv("TEND_GITHUB_TIMEOUT", "1500ms")
	if s, err = loadSettings(); err != nil || s.GitHubTimeout != 1500*time.Millisecond {
		t.Errorf("1500ms: %v %v", s, err)
	}
	for _, bad := range []string{"30", "soon", "-1s", "0s"} {
		t.Setenv("TEND_GITHUB_TIMEOUT", bad)
		if _, err := loadSettings(); err == nil || !strings.Contains(err.Error(), "TEND_GITHUB_TIMEOUT") {
			t.Errorf("%q: error %v, want one naming TEND_GITHUB_TIMEOUT", bad, err)
		}
	}
}
