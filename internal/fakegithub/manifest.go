package fakegithub

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// ManifestRegistration is one App registration through the manifest flow:
// what the browser posted to settings/apps/new and whether tend exchanged
// the code.
type ManifestRegistration struct {
	Org       string         // "" for a personal account
	State     string         // the state query parameter posted with the manifest
	Manifest  map[string]any // the decoded "manifest" form field
	Code      string
	Converted bool   // POST /app-manifests/{code}/conversions was answered
	Secret    string // the webhook secret handed out at conversion
}

// manifestFlow is the fake's share of GitHub's App manifest flow.
type manifestFlow struct {
	byCode map[string]*ManifestRegistration
	order  []*ManifestRegistration
}

// WebURL is the fake's web URL with a trailing slash (GITHUB_WEB_URL). It
// serves the manifest flow's settings/apps/new and
// organizations/{org}/settings/apps/new; other web links only look right.
func (s *Server) WebURL() string { return s.base + "_fake/web/" }

// ManifestRegistrations lists the registrations started so far, oldest
// first.
func (s *Server) ManifestRegistrations() []ManifestRegistration {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ManifestRegistration, 0, len(s.manifests.order))
	for _, r := range s.manifests.order {
		out = append(out, *r)
	}
	return out
}

// serveNewApp plays GitHub's "Create GitHub App" page for a manifest POSTed
// by a browser: it checks the manifest like GitHub does and, as if the user
// had confirmed, redirects to the manifest's redirect_url with a one-time
// code and the state it was given.
func (s *Server) serveNewApp(w http.ResponseWriter, r *http.Request, org string) {
	if r.Method != http.MethodPost {
		http.Error(w, "post a manifest", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(r.PostForm.Get("manifest")), &m); err != nil {
		http.Error(w, "Invalid GitHub App configuration: the manifest is not JSON", http.StatusUnprocessableEntity)
		return
	}
	redirect, problem := checkManifest(m)
	if problem != "" {
		http.Error(w, "Invalid GitHub App configuration: "+problem, http.StatusUnprocessableEntity)
		return
	}
	s.mu.Lock()
	code := "fake-manifest-code-" + randomToken(20)
	reg := &ManifestRegistration{Org: org, State: r.URL.Query().Get("state"), Manifest: m, Code: code}
	if s.manifests.byCode == nil {
		s.manifests.byCode = map[string]*ManifestRegistration{}
	}
	s.manifests.byCode[code] = reg
	s.manifests.order = append(s.manifests.order, reg)
	s.mu.Unlock()
	q := url.Values{"code": {code}}
	if reg.State != "" {
		q.Set("state", reg.State)
	}
	http.Redirect(w, r, redirect.String()+"?"+q.Encode(), http.StatusFound)
}

// checkManifest returns the redirect URL, or what GitHub would refuse.
func checkManifest(m map[string]any) (*url.URL, string) {
	if name, _ := m["name"].(string); strings.TrimSpace(name) == "" {
		return nil, "name is missing"
	}
	if u, _ := m["url"].(string); u == "" {
		return nil, "url is missing"
	}
	hook, _ := m["hook_attributes"].(map[string]any)
	if hookURL, _ := hook["url"].(string); !absoluteHTTP(hookURL) {
		return nil, "hook_attributes.url must be an absolute URL"
	}
	raw, _ := m["redirect_url"].(string)
	if !absoluteHTTP(raw) {
		return nil, "redirect_url must be an absolute URL"
	}
	if _, ok := m["default_permissions"].(map[string]any); !ok {
		return nil, "default_permissions is missing"
	}
	u, _ := url.Parse(raw)
	return u, ""
}

func absoluteHTTP(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// convertManifest answers POST /app-manifests/{code}/conversions: once per
// code, with the App's credentials. The fake has one App (AppID, AppKey);
// from now on it sends webhooks where the manifest said, signed with a
// fresh secret.
func (s *Server) convertManifest(c *call) {
	reg := s.manifests.byCode[c.param("code")]
	if reg == nil || reg.Converted {
		c.notFound()
		return
	}
	reg.Converted = true
	reg.Secret = randomToken(40)
	hook, _ := reg.Manifest["hook_attributes"].(map[string]any)
	hookURL, _ := hook["url"].(string)
	s.SetWebhooks(hookURL, reg.Secret)
	name, _ := reg.Manifest["name"].(string)
	owner := s.app
	if reg.Org != "" {
		owner = s.userLocked(reg.Org, "Organization")
	}
	c.json(http.StatusCreated, map[string]any{
		"id":             s.cfg.appID,
		"slug":           s.cfg.slug,
		"node_id":        nodeID("A", s.cfg.appID),
		"owner":          s.userJSON(owner),
		"name":           name,
		"description":    reg.Manifest["description"],
		"external_url":   reg.Manifest["url"],
		"html_url":       s.htmlURL("apps/%s", s.cfg.slug),
		"created_at":     "2024-01-01T00:00:00Z",
		"updated_at":     "2024-01-01T00:00:00Z",
		"permissions":    reg.Manifest["default_permissions"],
		"events":         reg.Manifest["default_events"],
		"client_id":      "Iv1.fake" + strconv.FormatInt(s.cfg.appID, 10),
		"client_secret":  randomToken(40),
		"webhook_secret": reg.Secret,
		"pem":            string(s.AppKeyPEM()),
	})
}

// newAppPage recognises the web pages that take a manifest:
// /_fake/web/settings/apps/new and /_fake/web/organizations/{org}/settings/apps/new.
func newAppPage(path string) (org string, ok bool) {
	rest, found := strings.CutPrefix(path, "/_fake/web/")
	if !found {
		return "", false
	}
	if rest == "settings/apps/new" {
		return "", true
	}
	if o, tail, cut := strings.Cut(strings.TrimPrefix(rest, "organizations/"), "/"); cut && strings.HasPrefix(rest, "organizations/") && o != "" && tail == "settings/apps/new" {
		return o, true
	}
	return "", false
}
