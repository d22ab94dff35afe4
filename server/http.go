package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"
)

// MaxWebhookBytes is GitHub's own cap on webhook payloads; anything larger
// is not from GitHub and is refused before it is read.
const MaxWebhookBytes = 25 << 20

func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST "+githubapp.DefaultWebhookRoute, a.webhooks())
	mux.HandleFunc(githubapp.DefaultWebhookRoute, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "webhooks are POSTed", http.StatusMethodNotAllowed)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", a.ready)
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{Registry: a.reg}))
	mux.Handle("/riverui/", a.admin(a.ui))
	mux.HandleFunc("GET /{$}", a.home)
	var h http.Handler = mux
	h = hlog.AccessHandler(func(r *http.Request, status, size int, d time.Duration) {
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || r.URL.Path == "/metrics" {
			return
		}
		hlog.FromRequest(r).Debug().Str("method", r.Method).Str("path", r.URL.Path).Int("status", status).Dur("duration", d).Msg("http")
	})(h)
	return hlog.NewHandler(a.log)(h)
}

// webhooks guards the dispatcher: setup mode answers 503; oversized bodies
// are refused by their declared length before anything is read, and cut off
// at the limit when the length is not declared.
func (a *app) webhooks() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.hooks == nil {
			w.Header().Set("Retry-After", "60")
			http.Error(w, "tend is not configured yet: set "+strings.Join(a.s.Missing(), ", ")+" (see "+a.selfURL(r)+"/)", http.StatusServiceUnavailable)
			return
		}
		if r.ContentLength > MaxWebhookBytes {
			http.Error(w, "webhook payload too large", http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxWebhookBytes)
		a.hooks.ServeHTTP(w, r)
	})
}

// webhookError answers a failed delivery: 413 for an oversized body, 400 for
// a bad signature or payload, 503 when tend could not enqueue (the delivery
// can be redelivered from GitHub's UI).
func webhookError(w http.ResponseWriter, r *http.Request, err error) {
	log := zerolog.Ctx(r.Context())
	var ve githubapp.ValidationError
	if errors.As(err, &ve) {
		var tooBig *http.MaxBytesError
		if errors.As(ve.Cause, &tooBig) {
			log.Warn().Msg("webhook payload too large")
			http.Error(w, "webhook payload too large", http.StatusRequestEntityTooLarge)
			return
		}
		log.Warn().Err(ve.Cause).Msg("invalid webhook")
		http.Error(w, "invalid webhook: "+publicCause(ve.Cause), http.StatusBadRequest)
		return
	}
	if errors.Is(err, context.Canceled) {
		http.Error(w, "request cancelled", http.StatusServiceUnavailable)
		return
	}
	log.Error().Err(err).Msg("webhook not enqueued")
	w.Header().Set("Retry-After", "10")
	http.Error(w, "tend could not take this delivery in; redeliver it later", http.StatusServiceUnavailable)
}

// publicCause says what was wrong with a webhook without echoing anything
// secret-derived (the expected signature never appears in go-github's errors).
func publicCause(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "signature"), strings.Contains(msg, "HMAC"):
		return "signature missing or wrong"
	case strings.Contains(msg, "malformed"):
		return "malformed payload"
	case strings.Contains(msg, "missing event type"):
		return "missing X-GitHub-Event header"
	case strings.Contains(msg, "Content-Type"), strings.Contains(msg, "content type"):
		return "unsupported content type"
	}
	return "unreadable request"
}

func (a *app) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	var one int
	if err := a.st.Q().QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ready\n"))
}

// admin protects operator pages with HTTP basic auth (user "admin",
// password TEND_ADMIN_PASSWORD); without a password they are off.
func (a *app) admin(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.s.AdminPassword == "" || h == nil {
			http.Error(w, "operator pages are off: set TEND_ADMIN_PASSWORD to enable them", http.StatusNotFound)
			return
		}
		user, pass, ok := r.BasicAuth()
		if !ok || user != "admin" || subtle.ConstantTimeCompare([]byte(pass), []byte(a.s.AdminPassword)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="tend"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (a *app) selfURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

var homePage = template.Must(template.New("home").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tend</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}code,pre{background:#f4f4f4;padding:.1rem .3rem}pre{padding:.8rem;overflow:auto}</style>
</head><body>
<h1>tend</h1>
{{if .Configured}}
<p>tend is running{{if .Bot}} as <strong>{{.Bot}}</strong>{{end}}. Webhooks go to <code>{{.Self}}/api/github/hook</code>.</p>
<ul><li><a href="/healthz">/healthz</a>, <a href="/readyz">/readyz</a>, <a href="/metrics">/metrics</a></li>
<li><a href="/riverui/">/riverui/</a> — the queue (needs TEND_ADMIN_PASSWORD)</li></ul>
{{else}}
<p><strong>tend is not configured yet.</strong> It is running, and its database is ready, but it has no GitHub App to act as. Missing: {{range $i, $m := .Missing}}{{if $i}}, {{end}}<code>{{$m}}</code>{{end}}.</p>
<ol>
<li>Create a GitHub App from the manifest <code>app.yml</code> in tend's repository (it lists the permissions and events tend needs), with the webhook URL <code>{{.Self}}/api/github/hook</code> and a webhook secret of your choosing.</li>
<li>Generate a private key for the App and note its App ID.</li>
<li>Restart tend with:
<pre>GITHUB_APP_INTEGRATION_ID=&lt;App ID&gt;
GITHUB_APP_WEBHOOK_SECRET=&lt;webhook secret&gt;
GITHUB_APP_PRIVATE_KEY="$(cat app-private-key.pem)"
go run ./server</pre>
For GitHub Enterprise Server also set <code>GITHUB_V3_API_URL</code> and <code>GITHUB_WEB_URL</code>.</li>
<li>Install the App on a repository and add <code>.github/tend.yaml</code> to it (see the README).</li>
</ol>
<p>Until then, webhooks are answered with 503.</p>
{{end}}
</body></html>
`))

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	data := struct {
		Configured bool
		Missing    []string
		Self, Bot  string
	}{a.s.Configured(), a.s.Missing(), a.selfURL(r), ""}
	if a.identity != nil {
		data.Bot = a.identity.BotLogin()
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = homePage.Execute(w, data)
}
