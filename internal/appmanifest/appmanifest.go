package appmanifest

import (
	_ "embed"
	"fmt"
	"net/url"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed app.yml
var appYAML []byte

// Manifest is the JSON document GitHub's manifest flow reads from the
// "manifest" form field
// (https://docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest).
type Manifest struct {
	Name               string            `json:"name" yaml:"name"`
	Description        string            `json:"description,omitempty" yaml:"description"`
	URL                string            `json:"url" yaml:"url"`
	HookAttributes     HookAttributes    `json:"hook_attributes" yaml:"hook_attributes"`
	RedirectURL        string            `json:"redirect_url" yaml:"-"`
	SetupURL           string            `json:"setup_url,omitempty" yaml:"-"`
	Public             bool              `json:"public" yaml:"public"`
	DefaultEvents      []string          `json:"default_events" yaml:"default_events"`
	DefaultPermissions map[string]string `json:"default_permissions" yaml:"default_permissions"`
}

// HookAttributes say where GitHub sends webhooks.
type HookAttributes struct {
	URL    string `json:"url" yaml:"url"`
	Active bool   `json:"active" yaml:"-"`
}

// Paths on tend that the manifest points GitHub at.
const (
	HookPath     = "/api/github/hook"
	CallbackPath = "/setup/callback"
	SetupPath    = "/"
)

// Load parses the embedded app.yml.
func Load() (Manifest, error) {
	return Parse(appYAML)
}

// Parse reads an app.yml document.
func Parse(data []byte) (Manifest, error) {
	var m Manifest
	if err := yaml.Unmarshal(data, &m); err != nil {
		return Manifest{}, fmt.Errorf("app.yml: %w", err)
	}
	if m.Name == "" || len(m.DefaultPermissions) == 0 {
		return Manifest{}, fmt.Errorf("app.yml: name and default_permissions are required")
	}
	return m, nil
}

// For returns the manifest of an App served by tend at publicURL (scheme and
// host, optionally a path prefix): webhooks to its hook route, GitHub's
// redirect back to its callback, and installs back to its home page. The
// App is always private to its owner.
func (m Manifest) For(publicURL string) (Manifest, error) {
	u, err := url.Parse(publicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Manifest{}, fmt.Errorf("public URL %q must be an absolute http(s) URL", publicURL)
	}
	base := strings.TrimSuffix(u.String(), "/")
	out := m
	out.DefaultEvents = append([]string(nil), m.DefaultEvents...)
	out.DefaultPermissions = make(map[string]string, len(m.DefaultPermissions))
	for k, v := range m.DefaultPermissions {
		out.DefaultPermissions[k] = v
	}
	out.HookAttributes = HookAttributes{URL: base + HookPath, Active: true}
	out.RedirectURL = base + CallbackPath
	out.SetupURL = base + SetupPath
	out.Public = false
	return out, nil
}
