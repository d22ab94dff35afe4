package main

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gregjones/httpcache"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/prometheus/client_golang/prometheus"
)

// githubObserver counts tend's requests to GitHub and remembers each
// installation's rate limit, as a go-githubapp client middleware. Labels
// are bounded: an endpoint family from a fixed list, the status code, and
// the installation id (one per installation of the App).
type githubObserver struct {
	requests    *prometheus.CounterVec
	notModified *prometheus.CounterVec
	remaining   *prometheus.GaugeVec

	mu    sync.Mutex
	rates map[int64]rateLimit
}

// rateLimit is an installation's primary rate limit as last reported.
type rateLimit struct {
	Remaining, Limit int
	Reset, Seen      time.Time
}

func newGitHubObserver(reg prometheus.Registerer) *githubObserver {
	o := &githubObserver{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tend_github_requests_total",
			Help: "Requests to GitHub's REST API, by endpoint family and HTTP status (304: answered from the cache after revalidation; error: no response).",
		}, []string{"family", "status"}),
		notModified: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tend_github_not_modified_total",
			Help: "Requests to GitHub answered 304 Not Modified (served from tend's cache, free of rate limit), by endpoint family.",
		}, []string{"family"}),
		remaining: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tend_github_rate_limit_remaining",
			Help: "Requests left in the current rate-limit window, by installation (as GitHub last reported).",
		}, []string{"installation"}),
		rates: map[int64]rateLimit{},
	}
	reg.MustRegister(o.requests, o.notModified, o.remaining)
	return o
}

// middleware is the client middleware. go-githubapp puts it outside the
// response cache and always revalidates, so a response marked X-From-Cache
// is a 304 from GitHub.
func (o *githubObserver) middleware(next http.RoundTripper) http.RoundTripper {
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		res, err := next.RoundTrip(r)
		family := endpointFamily(r.URL.Path)
		if err != nil || res == nil {
			o.requests.WithLabelValues(family, "error").Inc()
			return res, err
		}
		status := strconv.Itoa(res.StatusCode)
		if res.Header.Get(httpcache.XFromCache) != "" {
			status = "304"
			o.notModified.WithLabelValues(family).Inc()
		}
		o.requests.WithLabelValues(family, status).Inc()
		if id := installationOf(r); id != 0 {
			o.observeRate(id, res.Header)
		}
		return res, nil
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

var _ githubapp.ClientMiddleware = (*githubObserver)(nil).middleware

func (o *githubObserver) observeRate(installation int64, h http.Header) {
	remaining, err := strconv.Atoi(h.Get("X-Ratelimit-Remaining"))
	if err != nil {
		return
	}
	limit, _ := strconv.Atoi(h.Get("X-Ratelimit-Limit"))
	reset, _ := strconv.ParseInt(h.Get("X-Ratelimit-Reset"), 10, 64)
	o.mu.Lock()
	o.rates[installation] = rateLimit{Remaining: remaining, Limit: limit, Reset: time.Unix(reset, 0), Seen: time.Now()}
	o.mu.Unlock()
	o.remaining.WithLabelValues(strconv.FormatInt(installation, 10)).Set(float64(remaining))
}

// Rate returns an installation's last reported rate limit.
func (o *githubObserver) Rate(installation int64) (rateLimit, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	r, ok := o.rates[installation]
	return r, ok
}

// installationUA finds the installation in the User-Agent go-githubapp
// gives installation clients: "tend/v1 (installation: 42)".
var installationUA = regexp.MustCompile(`\(installation: (\d+)\)`)

func installationOf(r *http.Request) int64 {
	m := installationUA.FindStringSubmatch(r.Header.Get("User-Agent"))
	if m == nil {
		return 0
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}

// repoFamilies are the endpoint families under /repos/{owner}/{repo}/ that
// get their own label; the rest count as "repos-other".
var repoFamilies = map[string]bool{
	"contents": true, "git": true, "pulls": true, "issues": true, "check-runs": true, "check-suites": true,
	"commits": true, "branches": true, "compare": true, "collaborators": true, "releases": true,
	"labels": true, "actions": true, "statuses": true, "installation": true,
}

// topFamilies are the first path segments that get their own label.
var topFamilies = map[string]bool{
	"app": true, "installation": true, "rate_limit": true, "orgs": true, "users": true, "user": true,
	"app-manifests": true, "search": true, "meta": true,
}

// endpointFamily maps a REST path to a bounded label.
func endpointFamily(path string) string {
	path = strings.TrimPrefix(path, "/api/v3")
	segs := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case segs[0] == "repos" && len(segs) <= 3:
		return "repos"
	case segs[0] == "repos" && repoFamilies[segs[3]]:
		return segs[3]
	case segs[0] == "repos":
		return "repos-other"
	case topFamilies[segs[0]]:
		return segs[0]
	}
	return "other"
}

// webhookEvents are the events whose deliveries get their own label; any
// other X-GitHub-Event value counts as "other".
var webhookEvents = map[string]bool{
	"check_run": true, "check_suite": true, "installation": true, "installation_repositories": true,
	"installation_target": true, "issue_comment": true, "issues": true, "package": true, "ping": true,
	"pull_request": true, "pull_request_review": true, "pull_request_review_comment": true, "push": true,
	"registry_package": true, "release": true, "repository": true, "status": true, "workflow_run": true,
	"github_app_authorization": true, "meta": true,
}

// webhookMetrics counts deliveries by event and outcome.
type webhookMetrics struct{ deliveries *prometheus.CounterVec }

func newWebhookMetrics(reg prometheus.Registerer) *webhookMetrics {
	m := &webhookMetrics{deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tend_webhook_deliveries_total",
		Help: "Webhook deliveries received, by event and outcome (accepted, invalid, too_large, unavailable, error).",
	}, []string{"event", "outcome"})}
	reg.MustRegister(m.deliveries)
	return m
}

func (m *webhookMetrics) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		event := r.Header.Get("X-GitHub-Event")
		if !webhookEvents[event] {
			event = "other"
		}
		m.deliveries.WithLabelValues(event, deliveryOutcome(sw.status)).Inc()
	})
}

func deliveryOutcome(status int) string {
	switch {
	case status < 300:
		return "accepted"
	case status == http.StatusRequestEntityTooLarge:
		return "too_large"
	case status == http.StatusServiceUnavailable:
		return "unavailable"
	case status < 500:
		return "invalid"
	}
	return "error"
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}
