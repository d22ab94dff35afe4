package appmanifest

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"testing"
)

// The embedded copy is the top-level app.yml, byte for byte.
func TestEmbeddedCopyMatchesTopLevel(t *testing.T) {
	top, err := os.ReadFile("../../app.yml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(top, appYAML) {
		t.Fatal("internal/appmanifest/app.yml differs from the top-level app.yml: copy it (cp app.yml internal/appmanifest/)")
	}
}

func TestForFillsTheURLs(t *testing.T) {
	m, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.For("https://tend.example.org/")
	if err != nil {
		t.Fatal(err)
	}
	if got.HookAttributes.URL != "https://tend.example.org/api/github/hook" || !got.HookAttributes.Active {
		t.Errorf("hook = %+v", got.HookAttributes)
	}
	if got.RedirectURL != "https://tend.example.org/setup/callback" || got.SetupURL != "https://tend.example.org/" {
		t.Errorf("redirect %q setup %q", got.RedirectURL, got.SetupURL)
	}
	if got.Public || got.Name != "tend" || got.DefaultPermissions["contents"] != "write" || !slices.Contains(got.DefaultEvents, "push") {
		t.Errorf("manifest = %+v", got)
	}
	raw, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"name", "url", "hook_attributes", "redirect_url", "setup_url", "public", "default_events", "default_permissions"} {
		if _, ok := back[k]; !ok {
			t.Errorf("JSON manifest lacks %q: %s", k, raw)
		}
	}
	// The original is not changed by For.
	if m.HookAttributes.URL != "https://tend.example.com/api/github/hook" {
		t.Errorf("For changed its receiver: %q", m.HookAttributes.URL)
	}
}

func TestForRejectsBadURLs(t *testing.T) {
	m, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"", "tend.example.org", "ftp://x/", "http://"} {
		if _, err := m.For(u); err == nil {
			t.Errorf("For(%q) accepted", u)
		}
	}
}

func TestParseRejectsEmpty(t *testing.T) {
	if _, err := Parse([]byte("name: x\n")); err == nil {
		t.Error("a manifest without permissions was accepted")
	}
	if _, err := Parse([]byte(":\n\t-")); err == nil {
		t.Error("broken YAML was accepted")
	}
}
