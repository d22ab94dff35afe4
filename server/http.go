package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"net/url"
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
	mux.Handle("POST "+githubapp.DefaultWebhookRoute, a.hookM.wrap(a.webhooks()))
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
	mux.Handle("/riverui/", a.admin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l := a.live.Load(); l != nil && l.ui != nil {
			l.ui.ServeHTTP(w, r)
			return
		}
		http.Error(w, "the queue UI starts once tend is connected to GitHub", http.StatusServiceUnavailable)
	})))
	mux.Handle("GET /status", a.admin(http.HandlerFunc(a.status)))
	mux.Handle("POST /status/retry", a.admin(http.HandlerFunc(a.retryDeadLetter)))
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("POST /setup/register", a.startRegistration)
	mux.HandleFunc("GET /setup/callback", a.finishRegistration)
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
		l := a.live.Load()
		if l == nil {
			w.Header().Set("Retry-After", "60")
			http.Error(w, "tend is not connected to GitHub yet: register the App at "+a.publicURL(r)+"/ or set "+strings.Join(a.s.Missing(), ", "), http.StatusServiceUnavailable)
			return
		}
		if r.ContentLength > MaxWebhookBytes {
			http.Error(w, "webhook payload too large", http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxWebhookBytes)
		l.hooks.ServeHTTP(w, r)
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
		if a.s.AdminPassword == "" {
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

// publicURL is where GitHub and browsers reach tend: TEND_PUBLIC_URL, or
// the request's own address as a proxy in front of tend reports it
// (X-Forwarded-Proto, X-Forwarded-Host).
func (a *app) publicURL(r *http.Request) string {
	if a.s.PublicURL != "" {
		return a.s.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := firstForwarded(r.Header.Get("X-Forwarded-Proto")); p == "https" || p == "http" {
		scheme = p
	}
	host := r.Host
	if h := firstForwarded(r.Header.Get("X-Forwarded-Host")); h != "" {
		host = h
	}
	return scheme + "://" + host
}

// firstForwarded is the first value of a comma-separated forwarding header
// (the one the outermost proxy saw).
func firstForwarded(v string) string {
	first, _, _ := strings.Cut(v, ",")
	return strings.TrimSpace(first)
}

// isLocal reports whether a URL names this machine, which GitHub cannot
// reach.
func isLocal(publicURL string) bool {
	u, err := url.Parse(publicURL)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && (ip.IsLoopback() || ip.IsUnspecified())
}

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	self := a.publicURL(r)
	if l := a.live.Load(); l != nil {
		render(w, http.StatusOK, runningPage, map[string]any{"Self": self, "Bot": l.identity.BotLogin()})
		return
	}
	render(w, http.StatusOK, setupPage, map[string]any{
		"Title": "setup", "Self": self, "Local": isLocal(self), "Missing": a.s.Missing(),
	})
}
