package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-github/v89/github"
	"github.com/rs/zerolog"

	"github.com/tend-app/tend/internal/appmanifest"
)

// registration is the state of GitHub's App manifest flow: the states
// handed out and not yet used, and a lock so that one registration at a
// time goes live.
type registration struct {
	mu     sync.Mutex // held while a code is exchanged and tend goes live
	states sync.Map   // state -> expiry (time.Time)
	count  atomic.Int64
}

// stateTTL is how long a registration may take: GitHub's codes expire
// after an hour too.
const stateTTL = time.Hour

// maxStates bounds the states kept, so that anonymous visitors of the
// setup page cannot grow memory without end.
const maxStates = 1000

func newRegistration() *registration { return &registration{} }

// issue returns a new random, single-use state.
func (r *registration) issue() (string, error) {
	now := time.Now()
	if r.count.Load() >= maxStates {
		r.states.Range(func(k, v any) bool {
			if now.After(v.(time.Time)) {
				r.states.Delete(k)
				r.count.Add(-1)
			}
			return true
		})
		if r.count.Load() >= maxStates {
			return "", fmt.Errorf("too many registrations in progress; try again in an hour")
		}
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random state: %w", err)
	}
	state := hex.EncodeToString(b[:])
	r.states.Store(state, now.Add(stateTTL))
	r.count.Add(1)
	return state, nil
}

// take consumes state: true once for a state issued within the last hour.
func (r *registration) take(state string) bool {
	if state == "" {
		return false
	}
	v, ok := r.states.LoadAndDelete(state)
	if !ok {
		return false
	}
	r.count.Add(-1)
	return time.Now().Before(v.(time.Time))
}

// githubLogin is what GitHub accepts as a user or organisation name.
var githubLogin = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$`)

// newAppURL is where the browser posts the manifest: the personal
// settings, or the named organisation's.
func newAppURL(webURL, org, state string) string {
	path := "settings/apps/new"
	if org != "" {
		path = "organizations/" + url.PathEscape(org) + "/settings/apps/new"
	}
	return strings.TrimSuffix(webURL, "/") + "/" + path + "?" + url.Values{"state": {state}}.Encode()
}

// startRegistration answers the setup page's button: a page that posts the
// manifest to GitHub (by itself, or with one more click without
// JavaScript).
func (a *app) startRegistration(w http.ResponseWriter, r *http.Request) {
	if a.live.Load() != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	org := strings.TrimSpace(r.FormValue("org"))
	if org != "" && !githubLogin.MatchString(org) {
		a.setupError(w, http.StatusBadRequest, "“"+org+"” is not an organisation name GitHub accepts.")
		return
	}
	base, err := appmanifest.Load()
	if err == nil {
		base, err = base.For(a.publicURL(r))
	}
	if err != nil {
		a.setupError(w, http.StatusInternalServerError, "Cannot build the App manifest: "+err.Error())
		return
	}
	manifest, err := json.Marshal(base)
	if err != nil {
		a.setupError(w, http.StatusInternalServerError, "Cannot encode the App manifest: "+err.Error())
		return
	}
	state, err := a.setup.issue()
	if err != nil {
		a.setupError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	render(w, http.StatusOK, postManifestPage, map[string]any{
		"Action": newAppURL(a.s.GitHub.WebURL, org, state), "Manifest": string(manifest), "Org": org,
	})
}

// finishRegistration is the manifest's redirect_url: it checks the state,
// exchanges the code for the App's credentials, stores them and goes live.
func (a *app) finishRegistration(w http.ResponseWriter, r *http.Request) {
	log := zerolog.Ctx(r.Context())
	q := r.URL.Query()
	if !a.setup.take(q.Get("state")) {
		a.setupError(w, http.StatusBadRequest, "This registration link is unknown, expired or already used. Start again from the setup page.")
		return
	}
	code := q.Get("code")
	if code == "" || len(code) > 256 {
		a.setupError(w, http.StatusBadRequest, "GitHub sent no usable code. Start again from the setup page.")
		return
	}
	a.setup.mu.Lock()
	defer a.setup.mu.Unlock()
	if a.live.Load() != nil {
		a.setupError(w, http.StatusConflict, "tend already has a GitHub App; this registration was not used.")
		return
	}
	if a.ctx.Err() != nil {
		a.setupError(w, http.StatusServiceUnavailable, "tend is shutting down.")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	f, err := a.convertManifest(ctx, code)
	if err != nil {
		log.Warn().Err(err).Msg("App manifest conversion failed")
		a.setupError(w, http.StatusBadGateway, "GitHub did not complete the registration: "+err.Error())
		return
	}
	if err := writeAppFile(a.s.DataDir, f); err != nil {
		log.Error().Err(err).Msg("storing the registered App")
		a.setupError(w, http.StatusInternalServerError, "The App was registered on GitHub but tend could not store it: "+err.Error())
		return
	}
	s := *a.s
	s.applyAppFile(f)
	if err := a.goLive(&s); err != nil {
		log.Error().Err(err).Msg("starting with the registered App")
		a.setupError(w, http.StatusInternalServerError, "The App is stored but tend could not start with it: "+err.Error()+". Restart tend.")
		return
	}
	log.Info().Int64("app_id", f.ID).Str("slug", f.Slug).Msg("GitHub App registered; serving webhooks")
	install := f.HTMLURL
	if install == "" {
		install = strings.TrimSuffix(a.s.GitHub.WebURL, "/") + "/apps/" + url.PathEscape(f.Slug)
	}
	render(w, http.StatusOK, registeredPage, map[string]any{
		"Title": "registered", "Name": f.Name, "Slug": f.Slug, "Install": strings.TrimSuffix(install, "/") + "/installations/new",
	})
}

// convertManifest exchanges the flow's code at GITHUB_V3_API_URL (the
// request is unauthenticated; the code is the credential).
func (a *app) convertManifest(ctx context.Context, code string) (*appFile, error) {
	base := a.s.GitHub.V3APIURL
	gh, err := github.NewClient(github.WithURLs(&base, nil), github.WithTimeout(30*time.Second), github.WithUserAgent("tend/"+version))
	if err != nil {
		return nil, fmt.Errorf("github client: %w", err)
	}
	cfg, _, err := gh.Apps.CompleteAppManifest(ctx, code)
	if err != nil {
		return nil, fmt.Errorf("POST /app-manifests/{code}/conversions: %w", err)
	}
	f := &appFile{
		ID: cfg.GetID(), Slug: cfg.GetSlug(), Name: cfg.GetName(), HTMLURL: cfg.GetHTMLURL(),
		PrivateKey: cfg.GetPEM(), WebhookSecret: cfg.GetWebhookSecret(),
		ClientID: cfg.GetClientID(), ClientSecret: cfg.GetClientSecret(),
	}
	if f.ID == 0 || f.PrivateKey == "" || f.WebhookSecret == "" {
		return nil, fmt.Errorf("GitHub's answer lacks the App id, private key or webhook secret")
	}
	if err := checkPrivateKey(f.PrivateKey); err != nil {
		return nil, err
	}
	return f, nil
}

func (a *app) setupError(w http.ResponseWriter, status int, msg string) {
	render(w, status, setupErrorPage, map[string]any{"Title": "setup", "Message": msg})
}
