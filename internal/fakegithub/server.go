package fakegithub

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	docsURL = "https://docs.github.com/rest"
	// maxBody bounds a request body (GitHub's blob limit is 100 MB).
	maxBody = 128 << 20
	// maxRequestLog bounds Requests(); the oldest half is dropped beyond it.
	maxRequestLog = 200_000
)

// Option configures a Server.
type Option func(*config)

type config struct {
	appID          int64
	key            *rsa.PrivateKey
	slug           string
	tokenTTL       time.Duration
	hookURL        string
	hookSecret     string
	treeTruncateAt int
	rateLimit      int
	cacheControl   string
	lenientBodies  bool
	secondary      *SecondaryLimits
	publicURL      string
}

// WithAppKey sets the App's identity: its id and the key whose public half
// verifies App JWTs (RS256, iss = appID). Without it the Server generates a
// key for App id 1 (see AppID and AppKeyPEM).
func WithAppKey(appID int64, key *rsa.PrivateKey) Option {
	return func(c *config) { c.appID, c.key = appID, key }
}

// WithAppSlug sets the App's slug (default "tend"); its bot user is
// "<slug>[bot]".
func WithAppSlug(slug string) Option {
	return func(c *config) { c.slug = slug }
}

// WithTokenTTL sets the lifetime of installation tokens (default 1h). Expired
// tokens answer 401 "Bad credentials".
func WithTokenTTL(d time.Duration) Option {
	return func(c *config) { c.tokenTTL = d }
}

// WithWebhooks makes the Server deliver webhooks to url, signed with secret.
// SetWebhooks does the same after start.
func WithWebhooks(url, secret string) Option {
	return func(c *config) { c.hookURL, c.hookSecret = url, secret }
}

// WithTreeTruncateAt makes recursive tree listings with more than n entries
// answer the first n with "truncated": true (default 100,000, GitHub's limit).
func WithTreeTruncateAt(n int) Option {
	return func(c *config) { c.treeTruncateAt = n }
}

// WithRateLimit sets the hourly request budget of each installation (and of
// the App itself). Default 5,000 like GitHub; requests beyond it answer 403
// "API rate limit exceeded". n <= 0 disables the limit. Conditional requests
// answered 304 are free, as on GitHub.
func WithRateLimit(n int) Option {
	return func(c *config) { c.rateLimit = n }
}

// WithCacheControl overrides the Cache-Control header of GET responses
// (default GitHub's "private, max-age=60, s-maxage=60").
func WithCacheControl(v string) Option {
	return func(c *config) { c.cacheControl = v }
}

// WithLenientBodies stops reporting body fields that GitHub's description
// doesn't declare. By default they are violations: GitHub ignores them
// silently, so they are almost always mistakes (a misspelt field, or one
// the endpoint doesn't take). The request is served either way.
func WithLenientBodies() Option {
	return func(c *config) { c.lenientBodies = true }
}

// WithPublicURL sets the base URL clients reach the API at when the test
// serves the Server (an http.Handler) itself — over TLS under a host name,
// say, or behind a proxy: URL returns it, and answers link to it (pagination,
// download and web URLs). The Server still listens on its own 127.0.0.1
// address too. A path of /api/v3/ is served like GitHub Enterprise Server's.
func WithPublicURL(u string) Option {
	return func(c *config) { c.publicURL = u }
}

// Server is a running fake of GitHub's REST API. All methods are safe for
// concurrent use.
type Server struct {
	cfg  config
	spec *spec
	http *httptest.Server
	base string // URL with a trailing slash

	mu            sync.Mutex
	nextID        int64
	users         map[string]*user // by lower-case login
	app           *user            // the App's owner
	bot           *user
	installations map[int64]*installation
	repos         map[string]*repo // by lower-case full name
	reposByID     map[int64]*repo
	tokens        map[string]*token
	checkRuns     map[int64]*checkRun
	comments      map[int64]*comment
	releases      map[int64]*release
	violations    []string
	requests      []RequestRecord
	faults        []*fault
	delays        []*delay
	rates         map[string]*rateWindow
	manifests     manifestFlow
	ciData        *ciState // statuses and job logs (ci.go)
	secondary     secondaryState

	gatesMu sync.Mutex // guards gates, apart from mu: held requests wait outside mu
	gates   []*Gate

	hooks *hookQueue
}

// RequestRecord describes one request the Server answered.
type RequestRecord struct {
	Method         string
	Path           string // unescaped path, e.g. /repos/o/r/contents/a/b.txt
	Query          string // raw query
	Operation      string // GitHub's operationId, e.g. "pulls/create"; "" when unrouted
	Status         int
	InstallationID int64 // 0 for App JWTs and unauthenticated requests
	Conditional    bool  // carried If-None-Match
	NotModified    bool  // answered 304
	Time           time.Time
	Duration       time.Duration
	Held           time.Duration // an injected delay (Delay) included in Duration or after it
}

// New starts a Server for a test. Cleanup closes it and reports every
// recorded violation with t.Errorf (use TakeViolations to consume expected
// ones first).
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := Start(opts...)
	if err != nil {
		t.Fatalf("fakegithub: %v", err)
	}
	t.Cleanup(func() {
		s.Close()
		for _, v := range s.Violations() {
			t.Errorf("fakegithub: request violates GitHub's OpenAPI description: %s", v)
		}
	})
	return s
}

// Start starts a Server on 127.0.0.1. The caller must Close it.
func Start(opts ...Option) (*Server, error) {
	cfg := config{
		slug:           "tend",
		tokenTTL:       time.Hour,
		treeTruncateAt: 100_000,
		rateLimit:      5000,
		cacheControl:   "private, max-age=60, s-maxage=60",
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.key == nil {
		key, _ := GenerateAppKey()
		if key == nil {
			return nil, errors.New("fakegithub: cannot generate an App key")
		}
		cfg.key = key
		if cfg.appID == 0 {
			cfg.appID = 1
		}
	}
	sp, err := loadSpec()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:           cfg,
		spec:          sp,
		nextID:        1000,
		users:         map[string]*user{},
		installations: map[int64]*installation{},
		repos:         map[string]*repo{},
		reposByID:     map[int64]*repo{},
		tokens:        map[string]*token{},
		checkRuns:     map[int64]*checkRun{},
		comments:      map[int64]*comment{},
		releases:      map[int64]*release{},
		rates:         map[string]*rateWindow{},
	}
	s.app = s.userLocked("tend-app-owner", "Organization")
	s.bot = s.userLocked(cfg.slug+"[bot]", "Bot")
	s.hooks = newHookQueue(cfg.hookURL, cfg.hookSecret, cfg.appID)
	s.http = httptest.NewServer(s)
	s.base = s.http.URL + "/"
	if cfg.publicURL != "" {
		s.base = strings.TrimSuffix(cfg.publicURL, "/") + "/"
	}
	return s, nil
}

// URL is the API's base URL with a trailing slash (GITHUB_V3_API_URL).
func (s *Server) URL() string { return s.base }

// AppID is the App's id.
func (s *Server) AppID() int64 { return s.cfg.appID }

// AppKey is the App's private key.
func (s *Server) AppKey() *rsa.PrivateKey { return s.cfg.key }

// AppKeyPEM is the App's private key in PEM form (GITHUB_APP_PRIVATE_KEY).
func (s *Server) AppKeyPEM() []byte { return encodeKeyPEM(s.cfg.key) }

// BotLogin is the login of the App's bot user, "<slug>[bot]".
func (s *Server) BotLogin() string { return s.cfg.slug + "[bot]" }

// Close stops the Server and abandons undelivered webhooks.
func (s *Server) Close() {
	s.gatesMu.Lock()
	for _, g := range s.gates {
		g.Open()
	}
	s.gatesMu.Unlock()
	s.http.Close()
	s.hooks.close()
}

// Violations lists requests that failed to route or validate against
// GitHub's OpenAPI description, as "METHOD path: reason".
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

// TakeViolations returns the recorded violations and clears them.
func (s *Server) TakeViolations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.violations
	s.violations = nil
	return v
}

// Requests lists the requests answered so far, oldest first.
func (s *Server) Requests() []RequestRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]RequestRecord(nil), s.requests...)
}

// ResetRequests clears the request log.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// fault is an injected failure.
type fault struct {
	injection
	status  int
	headers map[string]string
}

// Fail makes the next `times` requests matching method and pathPattern
// answer status with the given headers instead of being served (times < 0:
// until cleared with ClearFaults). method "" or "*" matches any method.
// pathPattern is either an OpenAPI template ("/repos/{owner}/{repo}/pulls",
// matched against the routed operation) or a glob over the unescaped path in
// which "*" matches within one segment and "**" across segments
// ("/repos/o/r/git/**"). Bodies are GitHub's: a 403 with Retry-After or a 429
// reads as a secondary rate limit, a 403 with x-ratelimit-remaining: 0 as the
// primary one. Faulted requests are still validated and logged.
func (s *Server) Fail(method, pathPattern string, times int, status int, headers map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{injection: injection{method: strings.ToUpper(method), pattern: pathPattern, times: times}, status: status, headers: headers})
}

// ClearFaults removes every injected failure and delay.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults, s.delays = nil, nil
}

func (s *Server) takeFault(method, path, template string) *fault {
	f, _ := takeInjection(&s.faults, method, path, template)
	return f
}

// globMatch matches a path against a pattern in which "*" matches within a
// segment and "**" matches any run of characters.
func globMatch(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	if strings.HasPrefix(pattern, "**") {
		rest := pattern[2:]
		for i := 0; i <= len(s); i++ {
			if globMatch(rest, s[i:]) {
				return true
			}
		}
		return false
	}
	if pattern[0] == '*' {
		rest := pattern[1:]
		for i := 0; i <= len(s); i++ {
			if globMatch(rest, s[i:]) {
				return true
			}
			if i < len(s) && s[i] == '/' {
				break
			}
		}
		return false
	}
	if s == "" || pattern[0] != s[0] {
		return false
	}
	return globMatch(pattern[1:], s[1:])
}

type rateWindow struct {
	reset time.Time
	used  int
}

// call is one request in flight.
type call struct {
	s      *Server
	r      *http.Request
	m      *match
	body   []byte
	start  time.Time
	inst   *installation // the installation of an installation token
	token  *token
	actor  *user // who acts: the bot, or a user token's user; nil for App JWTs
	app    bool  // authenticated as the App (JWT)
	status int
	header http.Header
	out    []byte
	held   time.Duration // an injected delay
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if org, ok := newAppPage(r.URL.Path); ok {
		s.serveNewApp(w, r, org) // a web page, not the API
		return
	}
	c := &call{s: s, r: r, start: time.Now(), header: http.Header{}}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	c.body = body

	escaped := r.URL.EscapedPath()
	if strings.HasPrefix(escaped, "/api/v3/") || escaped == "/api/v3" {
		escaped = strings.TrimPrefix(escaped, "/api/v3")
	}
	if strings.HasPrefix(escaped, "/_fake/logs/") {
		s.serveLog(w, r, strings.TrimPrefix(r.URL.Path, "/_fake/logs/"))
		return
	}
	if strings.HasPrefix(escaped, "/_fake/raw/") {
		s.serveRaw(w, r, strings.TrimPrefix(r.URL.Path, "/_fake/raw/"))
		return
	}

	s.waitAtGates(r)
	dl := s.takeDelay(r, escaped)
	if dl != nil {
		c.held = dl.d
		if dl.hold == HoldBefore {
			time.Sleep(dl.d)
		}
	}
	s.serveLocked(w, c, escaped)
	if dl != nil && dl.hold == HoldAnswer {
		time.Sleep(dl.d)
	}
	w.WriteHeader(c.status)
	if c.out != nil && r.Method != http.MethodHead {
		w.Write(c.out) //nolint:errcheck // the client went away
	}
}

// serveLocked handles a request under the state lock. A panic (a bug in the
// fake) answers 500 and is reported as a violation, so that it fails the
// test instead of wedging the lock.
func (s *Server) serveLocked(w http.ResponseWriter, c *call, escaped string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	func() {
		defer func() {
			if p := recover(); p != nil {
				s.violation(c, fmt.Sprintf("fakegithub bug: panic: %v\n%s", p, debug.Stack()))
				c.header = http.Header{}
				c.fail(http.StatusInternalServerError, "fakegithub: internal error")
			}
		}()
		s.handle(c, escaped)
	}()
	s.finish(w, c)
}

// handle routes, validates, authenticates and dispatches one request; it
// leaves the response in c.
func (s *Server) handle(c *call, escaped string) {
	r := c.r
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	m, err := s.spec.find(method, escaped)
	if err != nil {
		s.violation(c, err.Error())
		c.fail(http.StatusUnprocessableEntity, "Invalid request.\n\n"+err.Error())
		return
	}
	c.m = m
	if len(c.body) > maxBody {
		c.fail(http.StatusRequestEntityTooLarge, "Request body too large")
		return
	}
	body := c.body
	if m.op.OperationID == "issues/add-labels" || m.op.OperationID == "issues/set-labels" {
		// go-github sends a bare array; GitHub accepts it though the
		// description doesn't say so.
		body = normalizeLabelsBody(body)
		c.body = body
	}
	if string(bytes.TrimSpace(body)) == "null" && (m.op.RequestBody == nil || !m.op.RequestBody.Value.Required) {
		// ghinstallation posts the JSON "null" for "no options" to
		// .../access_tokens; GitHub treats it as no body.
		body = nil
		c.body = nil
	}
	if len(bytes.TrimSpace(body)) > 0 && !json.Valid(body) {
		s.violation(c, "request body is not valid JSON")
		c.fail(http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	if err := s.spec.validate(r.Context(), r, m, body); err != nil {
		reason := shortError(err)
		s.violation(c, reason)
		c.failWith(http.StatusUnprocessableEntity, map[string]any{
			"message":           "Invalid request.\n\n" + reason,
			"documentation_url": docsURL,
			"status":            "422",
		})
		return
	}
	if !s.cfg.lenientBodies {
		if unknown := unknownBodyFields(m.op, body); len(unknown) > 0 {
			s.violation(c, "request body has fields "+m.op.OperationID+" doesn't take (GitHub ignores them): "+strings.Join(unknown, ", "))
		}
	}
	if f := s.takeFault(r.Method, r.URL.Path, m.route.template); f != nil {
		s.authenticate(c) // for the installation id in the log, not enforced
		c.status = 0
		c.out = nil
		c.faultResponse(f)
		return
	}
	if !s.authenticate(c) {
		return
	}
	if !s.rateLimit(c) || !s.secondaryLimit(c) {
		return
	}
	h := handlers[m.op.OperationID]
	if h == nil {
		c.fail(http.StatusNotFound, "Not Found")
		return
	}
	h(s, c)
	if c.status == 0 {
		c.status = http.StatusNoContent
	}
}

func (s *Server) violation(c *call, reason string) {
	s.violations = append(s.violations, fmt.Sprintf("%s %s: %s", c.r.Method, c.r.URL.RequestURI(), reason))
}

// finish adds the common headers, answers conditional GETs and logs the
// request; the caller writes the response outside the lock.
func (s *Server) finish(w http.ResponseWriter, c *call) {
	h := w.Header()
	for k, v := range c.header {
		h[k] = v
	}
	h.Set("X-GitHub-Api-Version-Selected", "2022-11-28")
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	h.Set("X-GitHub-Request-Id", fmt.Sprintf("FAKE:%X", time.Now().UnixNano()))
	if c.out != nil && h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json; charset=utf-8")
	}
	conditional := c.r.Header.Get("If-None-Match") != ""
	notModified := false
	if (c.r.Method == http.MethodGet || c.r.Method == http.MethodHead) && c.status == http.StatusOK {
		sum := sha256.Sum256(c.out)
		etag := `"` + hex.EncodeToString(sum[:16]) + `"`
		h.Set("ETag", etag)
		h.Set("Cache-Control", s.cfg.cacheControl)
		h.Set("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP")
		h.Set("Last-Modified", c.start.UTC().Format(http.TimeFormat))
		if conditional && etagMatches(c.r.Header.Get("If-None-Match"), etag) {
			notModified = true
			c.status = http.StatusNotModified
			c.out = nil
			h.Del("Content-Type")
			if c.rateKey() != "" {
				// 304s don't count against the rate limit.
				if rw := s.rates[c.rateKey()]; rw != nil && rw.used > 0 {
					rw.used--
				}
			}
		}
	}
	s.rateHeaders(c, h)
	var instID int64
	if c.inst != nil {
		instID = c.inst.id
	}
	op := ""
	if c.m != nil {
		op = c.m.op.OperationID
	}
	s.requests = append(s.requests, RequestRecord{
		Method:         c.r.Method,
		Path:           c.r.URL.Path,
		Query:          c.r.URL.RawQuery,
		Operation:      op,
		Status:         c.status,
		InstallationID: instID,
		Conditional:    conditional,
		NotModified:    notModified,
		Time:           c.start,
		Duration:       time.Since(c.start),
		Held:           c.held,
	})
	if len(s.requests) > maxRequestLog {
		s.requests = append([]RequestRecord(nil), s.requests[len(s.requests)/2:]...)
	}
	if c.out != nil {
		h.Set("Content-Length", strconv.Itoa(len(c.out)))
	}
}

func etagMatches(header, etag string) bool {
	for _, part := range strings.Split(header, ",") {
		p := strings.TrimSpace(part)
		p = strings.TrimPrefix(p, "W/")
		if p == "*" || p == etag {
			return true
		}
	}
	return false
}

func (c *call) rateKey() string {
	switch {
	case c.inst != nil:
		return "installation:" + strconv.FormatInt(c.inst.id, 10)
	case c.app:
		return "app"
	case c.actor != nil:
		return "user:" + c.actor.login
	}
	return ""
}

// rateLimit charges the request to its identity's hourly budget.
func (s *Server) rateLimit(c *call) bool {
	key := c.rateKey()
	if key == "" {
		return true
	}
	now := time.Now()
	rw := s.rates[key]
	if rw == nil || now.After(rw.reset) {
		rw = &rateWindow{reset: now.Add(time.Hour).Truncate(time.Second)}
		s.rates[key] = rw
	}
	if s.cfg.rateLimit > 0 && rw.used >= s.cfg.rateLimit {
		what := "installation ID " + strconv.FormatInt(func() int64 {
			if c.inst != nil {
				return c.inst.id
			}
			return 0
		}(), 10)
		if c.inst == nil {
			what = "this App"
		}
		c.failWith(http.StatusForbidden, map[string]any{
			"message":           "API rate limit exceeded for " + what + ". If you reach out to GitHub Support for help, please include the request ID.",
			"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
			"status":            "403",
		})
		return false
	}
	rw.used++
	return true
}

func (s *Server) rateHeaders(c *call, h http.Header) {
	limit := s.cfg.rateLimit
	if limit <= 0 {
		limit = 1_000_000
	}
	used := 0
	reset := time.Now().Add(time.Hour)
	if rw := s.rates[c.rateKey()]; rw != nil && c.rateKey() != "" {
		used, reset = rw.used, rw.reset
	}
	remaining := limit - used
	if remaining < 0 {
		remaining = 0
	}
	set := func(k, v string) {
		if h.Get(k) == "" {
			h.Set(k, v)
		}
	}
	set("X-RateLimit-Limit", strconv.Itoa(limit))
	set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	set("X-RateLimit-Used", strconv.Itoa(used))
	set("X-RateLimit-Resource", "core")
}

// Response helpers.

// marshal encodes like GitHub: no HTML escaping of <, > and &.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("fakegithub: encode response: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func (c *call) json(status int, v any) {
	out, err := marshal(v)
	if err != nil {
		c.fail(http.StatusInternalServerError, "fakegithub: "+err.Error())
		return
	}
	c.status = status
	c.out = out
}

func (c *call) failWith(status int, v map[string]any) {
	c.json(status, v)
}

// fail answers GitHub's error JSON.
func (c *call) fail(status int, msg string) {
	c.json(status, map[string]any{"message": msg, "documentation_url": docsURL, "status": strconv.Itoa(status)})
}

func (c *call) notFound() { c.fail(http.StatusNotFound, "Not Found") }

// fieldError is one entry of a 422 "Validation Failed" answer.
type fieldError struct {
	Resource string `json:"resource,omitempty"`
	Field    string `json:"field,omitempty"`
	Code     string `json:"code"`
	Message  string `json:"message,omitempty"`
}

// invalid answers 422 "Validation Failed" with the given errors.
func (c *call) invalid(errs ...fieldError) {
	c.json(http.StatusUnprocessableEntity, map[string]any{
		"message":           "Validation Failed",
		"errors":            errs,
		"documentation_url": docsURL,
		"status":            "422",
	})
}

// unprocessable answers 422 with a plain message.
func (c *call) unprocessable(msg string) { c.fail(http.StatusUnprocessableEntity, msg) }

func (c *call) faultResponse(f *fault) {
	msg := http.StatusText(f.status)
	doc := docsURL
	retry := false
	remaining0 := false
	for k, v := range f.headers {
		c.header.Set(k, v)
		if strings.EqualFold(k, "Retry-After") {
			retry = true
		}
		if strings.EqualFold(k, "X-RateLimit-Remaining") && v == "0" {
			remaining0 = true
		}
	}
	switch {
	case f.status == http.StatusForbidden && remaining0:
		msg = "API rate limit exceeded for installation. If you reach out to GitHub Support for help, please include the request ID."
		doc = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
	case f.status == http.StatusTooManyRequests || (f.status == http.StatusForbidden && retry):
		msg = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID."
		doc = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
	}
	c.json(f.status, map[string]any{"message": msg, "documentation_url": doc, "status": strconv.Itoa(f.status)})
}

// decode reads the JSON body into v; on failure it answers 400 like GitHub.
func (c *call) decode(v any) bool {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return true
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		c.fail(http.StatusBadRequest, "Problems parsing JSON")
		return false
	}
	return true
}

func (c *call) param(name string) string { return c.m.params[name] }

func (c *call) intParam(name string) (int64, bool) {
	n, err := strconv.ParseInt(c.param(name), 10, 64)
	if err != nil {
		c.notFound()
		return 0, false
	}
	return n, true
}

func (c *call) query(name string) string { return c.r.URL.Query().Get(name) }

// page returns the requested page (1-based) and page size.
func (c *call) page() (page, perPage int) {
	page, perPage = 1, 30
	if n, err := strconv.Atoi(c.query("page")); err == nil && n > 0 {
		page = n
	}
	if n, err := strconv.Atoi(c.query("per_page")); err == nil && n > 0 {
		perPage = n
	}
	if perPage > 100 {
		perPage = 100
	}
	return page, perPage
}

// paginate slices items for the requested page and sets GitHub's Link
// header.
func paginate[T any](c *call, items []T) []T {
	page, perPage := c.page()
	total := len(items)
	last := (total + perPage - 1) / perPage
	if last == 0 {
		last = 1
	}
	link := func(p int, rel string) string {
		u := *c.r.URL
		u.Scheme, u.Host = "", ""
		q := u.Query()
		q.Set("page", strconv.Itoa(p))
		q.Set("per_page", strconv.Itoa(perPage))
		u.RawQuery = q.Encode()
		return fmt.Sprintf(`<%s%s>; rel="%s"`, strings.TrimSuffix(c.s.base, "/"), u.RequestURI(), rel)
	}
	var links []string
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"), link(page-1, "prev"))
	}
	if len(links) > 0 {
		c.header.Set("Link", strings.Join(links, ", "))
	}
	start := (page - 1) * perPage
	if start >= total {
		return []T{}
	}
	end := start + perPage
	if end > total {
		end = total
	}
	return items[start:end]
}

// apiURL builds an API URL below the base.
func (s *Server) apiURL(format string, args ...any) string {
	return s.base + strings.TrimPrefix(fmt.Sprintf(format, args...), "/")
}

// htmlURL builds a web URL (there is no web UI; the URLs only look right).
func (s *Server) htmlURL(format string, args ...any) string {
	return s.base + "_fake/web/" + strings.TrimPrefix(fmt.Sprintf(format, args...), "/")
}

// serveRaw answers download_url links: /_fake/raw/{owner}/{repo}/{sha}/{path}.
func (s *Server) serveRaw(w http.ResponseWriter, r *http.Request, rest string) {
	parts := strings.SplitN(rest, "/", 4)
	if len(parts) != 4 {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	rp := s.repos[strings.ToLower(parts[0]+"/"+parts[1])]
	var data []byte
	found := false
	if rp != nil {
		if sha, ok := rp.resolveCommit(parts[2]); ok {
			if e, ok := rp.st.lookup(rp.st.commit(sha).tree, parts[3]); ok && e.kind() == kindBlob {
				data, found = rp.st.get(e.sha).blob, true
			}
		}
	}
	s.mu.Unlock()
	if !found {
		http.Error(w, "404: Not Found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write(data) //nolint:errcheck // the client went away
}

func (s *Server) newID() int64 {
	s.nextID++
	return s.nextID
}

func now() time.Time { return time.Now().UTC().Truncate(time.Second) }

// ts formats a time as GitHub does.
func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// tsOrNil formats a time, or null when zero.
func tsOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ts(t)
}

func nodeID(kind string, id int64) string {
	return encodeNodeID(kind, strconv.FormatInt(id, 10))
}

func encodeNodeID(kind, id string) string {
	return kind + "_" + strings.TrimRight(b64url(kind+":"+id), "=")
}

func queryEscape(s string) string { return url.QueryEscape(s) }

// WaitNextSecond returns once the clock has moved to the next whole
// second: the fake, like GitHub, keeps timestamps to the second, and a test
// that needs two events to be told apart by time waits for it.
func WaitNextSecond() {
	start := now()
	for now().Equal(start) {
		time.Sleep(10 * time.Millisecond)
	}
}
