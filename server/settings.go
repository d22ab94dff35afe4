package main

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/palantir/go-githubapp/githubapp"

	"github.com/tend-app/tend/internal/pace"
	"github.com/tend-app/tend/internal/queue"
	"github.com/tend-app/tend/internal/store"
	"github.com/tend-app/tend/reconcilers/agent"
)

// settings is everything read from the environment. The GitHub variables
// are read by go-githubapp's SetValuesFromEnv, so their names are the ones
// every go-githubapp service uses.
type settings struct {
	GitHub        githubapp.Config
	Addr          string
	DataDir       string
	DatabaseURL   string
	LogLevel      string
	LogFormat     string
	AdminPassword string
	Model         string
	// PublicURL is where GitHub reaches tend (TEND_PUBLIC_URL); empty: taken
	// from each request.
	PublicURL string
	// AppSlug is the App's slug when known from github-app.json.
	AppSlug string

	AgentMaxTurns    int
	AgentMaxTokens   int
	AgentDailyTokens int
	AgentMaxWall     time.Duration
	// ModelTimeout bounds one model call; ModelRetryBase is the first wait
	// before retrying a failed one (agent.Budgets).
	ModelTimeout   time.Duration
	ModelRetryBase time.Duration

	Workers      int
	Settle       time.Duration
	MaxDelay     time.Duration
	MaxAttempts  int
	RetryBase    time.Duration
	JobTimeout   time.Duration
	RescueAfter  time.Duration
	PollInterval time.Duration
	ResyncTick   time.Duration
	// GitHubTimeout bounds one request to GitHub (TEND_GITHUB_TIMEOUT),
	// answer body included.
	GitHubTimeout time.Duration
	// WritePace spaces content-creating requests per installation
	// (TEND_WRITE_LIMITS, TEND_WRITE_GAP); no Windows: not paced.
	WritePace store.WritePace
}

// Configured reports whether the GitHub App credentials are present; without
// them tend runs in setup mode.
func (s *settings) Configured() bool {
	return s.GitHub.App.IntegrationID != 0 && s.GitHub.App.PrivateKey != "" && s.GitHub.App.WebhookSecret != ""
}

// Missing names the credentials that are not set.
func (s *settings) Missing() []string {
	var out []string
	if s.GitHub.App.IntegrationID == 0 {
		out = append(out, "GITHUB_APP_INTEGRATION_ID")
	}
	if s.GitHub.App.PrivateKey == "" {
		out = append(out, "GITHUB_APP_PRIVATE_KEY")
	}
	if s.GitHub.App.WebhookSecret == "" {
		out = append(out, "GITHUB_APP_WEBHOOK_SECRET")
	}
	return out
}

// loadSettings reads the settings from the environment.
func loadSettings() (*settings, error) {
	s := &settings{GitHubTimeout: defaultGitHubTimeout}
	if err := s.loadGitHub(); err != nil {
		return nil, err
	}
	s.Addr = envOr("TEND_ADDR", ":8080")
	s.DataDir = envOr("TEND_DATA_DIR", "./data")
	s.DatabaseURL = os.Getenv("DATABASE_URL")
	s.LogLevel = envOr("TEND_LOG_LEVEL", "info")
	s.LogFormat = envOr("TEND_LOG_FORMAT", "json")
	s.AdminPassword = os.Getenv("TEND_ADMIN_PASSWORD")
	s.Model = modelName()
	if err := s.loadPublicURL(); err != nil {
		return nil, err
	}
	f, err := readAppFile(s.DataDir)
	if err != nil {
		return nil, err
	}
	s.applyAppFile(f)
	if err := s.loadNumbers(); err != nil {
		return nil, err
	}
	if err := s.loadWritePace(); err != nil {
		return nil, err
	}
	return s, nil
}

// loadPublicURL reads TEND_PUBLIC_URL, the address GitHub reaches tend at.
func (s *settings) loadPublicURL() error {
	s.PublicURL = strings.TrimSuffix(os.Getenv("TEND_PUBLIC_URL"), "/")
	if s.PublicURL == "" {
		return nil
	}
	if u, err := url.Parse(s.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("TEND_PUBLIC_URL must be an absolute http(s) URL, got %q", s.PublicURL)
	}
	return nil
}

// loadGitHub reads the App's settings the way go-githubapp reads them,
// forgiving the usual mistakes of pasting them into variables.
func (s *settings) loadGitHub() error {
	s.GitHub.V3APIURL = "https://api.github.com/"
	s.GitHub.V4APIURL = "https://api.github.com/graphql"
	s.GitHub.WebURL = "https://github.com/"
	if v := os.Getenv("GITHUB_APP_INTEGRATION_ID"); v != "" {
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return fmt.Errorf("GITHUB_APP_INTEGRATION_ID must be a number, got %q", v)
		}
	}
	s.GitHub.SetValuesFromEnv("")
	// A PEM pasted into a single-line variable often arrives with literal \n.
	if k := s.GitHub.App.PrivateKey; k != "" && !strings.Contains(k, "\n") && strings.Contains(k, `\n`) {
		s.GitHub.App.PrivateKey = strings.ReplaceAll(k, `\n`, "\n")
	}
	for _, u := range []*string{&s.GitHub.V3APIURL, &s.GitHub.WebURL} {
		if !strings.HasSuffix(*u, "/") {
			*u += "/"
		}
	}
	if os.Getenv("GITHUB_V4_API_URL") == "" && s.GitHub.V3APIURL != "https://api.github.com/" {
		s.GitHub.V4APIURL = strings.TrimSuffix(s.GitHub.V3APIURL, "/") + "/graphql"
	}
	return nil
}

// defaultGitHubTimeout is how long tend waits for one GitHub request unless
// TEND_GITHUB_TIMEOUT says otherwise.
const defaultGitHubTimeout = 30 * time.Second

// loadNumbers reads the counts and durations that tune tend.
// modelName is the Gemini model the agent uses (TEND_MODEL).
func modelName() string { return envOr("TEND_MODEL", "gemini-2.5-flash") }

// agentSettings reads only what the agent reconciler needs (the model and
// the numbers, including its budgets), for `tend plan`.
func agentSettings() (*settings, error) {
	s := &settings{Model: modelName()}
	return s, s.loadNumbers()
}

// agentBudgets are the bounds of one agent run (zero fields: the agent's
// defaults).
func (s *settings) agentBudgets() agent.Budgets {
	return agent.Budgets{MaxTurns: s.AgentMaxTurns, MaxTokens: int64(s.AgentMaxTokens), MaxWall: s.AgentMaxWall,
		CallTimeout: s.ModelTimeout, RetryBase: s.ModelRetryBase}
}

func (s *settings) loadNumbers() error {
	var err error
	ints := []struct {
		name string
		dst  *int
	}{{"TEND_WORKERS", &s.Workers}, {"TEND_MAX_ATTEMPTS", &s.MaxAttempts},
		{"TEND_AGENT_MAX_TURNS", &s.AgentMaxTurns}, {"TEND_AGENT_MAX_TOKENS", &s.AgentMaxTokens}, {"TEND_AGENT_DAILY_TOKENS", &s.AgentDailyTokens}}
	for _, e := range ints {
		if v := os.Getenv(e.name); v != "" {
			if *e.dst, err = strconv.Atoi(v); err != nil || *e.dst < 1 {
				return fmt.Errorf("%s must be a positive number, got %q", e.name, v)
			}
		}
	}
	durs := []struct {
		name string
		dst  *time.Duration
	}{
		{"TEND_SETTLE", &s.Settle}, {"TEND_MAX_DELAY", &s.MaxDelay}, {"TEND_RETRY_BASE", &s.RetryBase},
		{"TEND_JOB_TIMEOUT", &s.JobTimeout}, {"TEND_RESCUE_AFTER", &s.RescueAfter},
		{"TEND_POLL_INTERVAL", &s.PollInterval}, {"TEND_RESYNC_TICK", &s.ResyncTick}, {"TEND_AGENT_MAX_WALL", &s.AgentMaxWall},
		{"TEND_GITHUB_TIMEOUT", &s.GitHubTimeout},
		{"TEND_MODEL_TIMEOUT", &s.ModelTimeout}, {"TEND_MODEL_RETRY_BASE", &s.ModelRetryBase},
	}
	for _, e := range durs {
		if v := os.Getenv(e.name); v != "" {
			if (v == "0" || v == "off") && e.name == "TEND_SETTLE" {
				*e.dst = queue.NoSettle
				continue
			}
			if *e.dst, err = time.ParseDuration(v); err != nil || *e.dst <= 0 {
				return fmt.Errorf("%s must be a duration like 2s or 5m, got %q", e.name, v)
			}
		}
	}
	return nil
}

// loadWritePace reads TEND_WRITE_LIMITS ("80/1m,500/1h", or "off") and
// TEND_WRITE_GAP; the defaults are GitHub's guidance (pace.GitHub).
func (s *settings) loadWritePace() error {
	s.WritePace = pace.GitHub
	if v := os.Getenv("TEND_WRITE_LIMITS"); v != "" {
		w, err := pace.ParseWindows(v)
		if err != nil {
			return fmt.Errorf("TEND_WRITE_LIMITS: %w", err)
		}
		s.WritePace.Windows = w
	}
	if v := os.Getenv("TEND_WRITE_GAP"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("TEND_WRITE_GAP must be a duration like 100ms, got %q", v)
		}
		s.WritePace.Gap = d
	}
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// checkPrivateKey tells a PEM that cannot sign App JWTs apart before tend
// starts with it. The error never quotes the key.
func checkPrivateKey(pemText string) error {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return errors.New("the App private key is not PEM text (-----BEGIN RSA PRIVATE KEY-----...)")
	}
	if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return nil
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return errors.New("the App private key is not an RSA private key in PKCS#1 or PKCS#8 form")
	}
	if _, ok := key.(*rsa.PrivateKey); !ok {
		return errors.New("the App private key is not an RSA key (GitHub Apps sign with RS256)")
	}
	return nil
}

// registryHost is the container registry of the GitHub instance at webURL:
// ghcr.io for github.com, containers.HOST for GitHub Enterprise Server.
func registryHost(webURL string) string {
	u, err := url.Parse(webURL)
	if err != nil || u.Hostname() == "" || u.Hostname() == "github.com" {
		return "ghcr.io"
	}
	return "containers." + u.Hostname()
}
