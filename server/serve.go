package main

import (
	"github.com/tend-app/tend/internal/botpr"

	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/google/go-github/v89/github"
	"github.com/gregjones/httpcache"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/rs/zerolog"

	"github.com/tend-app/tend/handlers"
	"github.com/tend-app/tend/internal/config"
	"github.com/tend-app/tend/internal/pace"
	"github.com/tend-app/tend/internal/queue"
	"github.com/tend-app/tend/internal/store"
	"github.com/tend-app/tend/internal/worker"
	"github.com/tend-app/tend/reconcilers"
	"github.com/tend-app/tend/reconcilers/agent"
	"github.com/tend-app/tend/reconcilers/changes"
	"github.com/tend-app/tend/reconcilers/commands"
	"github.com/tend-app/tend/reconcilers/images"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func openStore(ctx context.Context, s *settings) (*store.Store, error) {
	if s.DatabaseURL != "" {
		return store.OpenPostgres(ctx, s.DatabaseURL)
	}
	return store.OpenSQLite(ctx, s.DataDir)
}

func queueOptions(s *settings, log zerolog.Logger, reg prometheus.Registerer) queue.Options {
	return queue.Options{
		Workers:      s.Workers,
		Settle:       s.Settle,
		MaxDelay:     s.MaxDelay,
		MaxAttempts:  s.MaxAttempts,
		RetryBase:    s.RetryBase,
		JobTimeout:   s.JobTimeout,
		RescueAfter:  s.RescueAfter,
		PollInterval: s.PollInterval,
		ResyncTick:   s.ResyncTick,
		Logger:       log,
		Registerer:   reg,
	}
}

// app is the running service. Until the GitHub App is known it runs in
// setup mode; registering the App through the manifest flow makes it live
// without a restart.
type app struct {
	s      *settings // as started; the live settings may add App credentials
	ctx    context.Context
	log    zerolog.Logger
	st     *store.Store
	reg    *prometheus.Registry
	setupQ *queue.Queue // setup mode's insert-only queue, closed when live
	live   atomic.Pointer[live]
	setup  *registration
	gh     *githubObserver
	hookM  *webhookMetrics
}

// live is what runs once tend has GitHub App credentials.
type live struct {
	s        *settings
	q        *queue.Queue
	identity *botpr.Identity
	clients  githubapp.ClientCreator
	ui       http.Handler
	hooks    http.Handler
}

func serve(ctx context.Context, s *settings, log zerolog.Logger) error {
	a := &app{s: s, ctx: ctx, log: log, reg: prometheus.NewRegistry(), setup: newRegistration()}
	a.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.gh, a.hookM = newGitHubObserver(a.reg), newWebhookMetrics(a.reg)

	if err := os.MkdirAll(s.DataDir, 0o700); err != nil {
		return fmt.Errorf("create TEND_DATA_DIR %s: %w", s.DataDir, err)
	}
	st, err := openStore(ctx, s)
	if err != nil {
		return err
	}
	defer st.Close()
	a.st = st

	if s.Configured() {
		if err := checkPrivateKey(s.GitHub.App.PrivateKey); err != nil {
			return err
		}
		if err := a.goLive(s); err != nil {
			return err
		}
	} else {
		log.Warn().Strs("missing", s.Missing()).Msg("GitHub App credentials are not set; starting in setup mode: open / to register the App")
		// Setup mode still migrates the queue so the database is ready.
		opts := queueOptions(s, log, nil)
		opts.InsertOnly = true
		if a.setupQ, err = queue.New(ctx, st, nil, opts); err != nil {
			return err
		}
	}

	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.Addr, err)
	}
	srv := &http.Server{
		Handler:           a.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return log.WithContext(context.Background()) },
	}
	db := "sqlite:" + filepath.Join(s.DataDir, "tend.db")
	if s.DatabaseURL != "" {
		db = "postgres"
	}
	log.Info().Str("addr", ln.Addr().String()).Str("database", db).Bool("configured", s.Configured()).Str("version", version).Msg("tend listening")

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info().Msg("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Stop taking webhooks first, then let running keys finish.
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Warn().Err(err).Msg("http shutdown")
	}
	a.setup.mu.Lock() // no registration goes live from here on
	defer a.setup.mu.Unlock()
	if l := a.live.Load(); l != nil {
		if err := l.q.Stop(shutdownCtx); err != nil {
			log.Warn().Err(err).Msg("queue shutdown")
		}
	} else if a.setupQ != nil {
		a.setupQ.Close()
	}
	return nil
}

// goLive builds the GitHub clients, the queue and its worker for s and
// starts serving webhooks.
func (a *app) goLive(s *settings) error {
	l, err := a.wire(a.ctx, s)
	if err != nil {
		return err
	}
	if a.setupQ != nil {
		a.setupQ.Close()
		a.setupQ = nil
	}
	a.live.Store(l)
	return nil
}

// installationTTL is how long a repository's installation is remembered.
// Looking it up takes the App's JWT (counted against the App's rate
// limit); an hour, the lifetime of an installation token, spares a resync
// of a large organisation (which takes more than minutes) a lookup per
// repository. A repository removed from the App meanwhile fails its runs
// with 404s until its entry expires.
const installationTTL = time.Hour

// wire builds the GitHub clients, the queue and its worker.
func (a *app) wire(ctx context.Context, s *settings) (*live, error) {
	log := a.log
	l := &live{s: s}
	cache, err := newResponseCache(filepath.Join(s.DataDir, "httpcache"))
	if err != nil {
		return nil, fmt.Errorf("response cache: %w", err)
	}
	clients, err := githubapp.NewDefaultCachingClientCreator(s.GitHub,
		githubapp.WithClientUserAgent("tend/"+version),
		githubapp.WithClientTimeout(s.GitHubTimeout),
		githubapp.WithClientCaching(true, func() httpcache.Cache { return cache }),
		githubapp.WithClientMiddleware(a.gh.middleware),
	)
	if err != nil {
		return nil, fmt.Errorf("github clients: %w", err)
	}
	clients = &pace.Creator{ClientCreator: clients, Booker: a.st, Pace: s.WritePace}
	l.clients = clients
	l.identity = botpr.NewIdentity(s.GitHub.App.IntegrationID, s.AppSlug)

	appClient, err := clients.NewAppClient()
	if err != nil {
		return nil, fmt.Errorf("github app client: %w", err)
	}
	installs := githubapp.NewCachingInstallationsService(githubapp.NewInstallationsService(appClient), installationTTL, 2*installationTTL)
	configs := config.NewCache(config.NewLoader(), a.st)

	manager := &changes.Manager{Identity: l.identity, Counter: a.st, Declines: a.st}
	pipeline := &commands.Pipeline{Identity: l.identity, PRs: manager, Quiet: manager}
	model, modelErr := agent.NewGenAIModel(ctx, nil)
	if modelErr != nil {
		log.Warn().Err(modelErr).Msg("agent rules will fail their check runs until model credentials are set")
	}
	agentRec := &agent.Reconciler{
		Changes: manager, Requests: pipeline, Model: model, ModelErr: modelErr, ModelName: s.Model, Usage: agentUsage{a.st},
		Budgets:     s.agentBudgets(),
		DailyTokens: int64(s.AgentDailyTokens), Metrics: agent.NewMetrics(a.reg),
	}
	keyWorker := &worker.Worker{
		Clients:       clients,
		Installations: installs,
		Configs:       configs,
		Reconcilers: map[string]reconcilers.Reconciler{
			config.ReconcilerImages: &images.Reconciler{Changes: manager, Index: a.st},
			config.ReconcilerAgent:  agentRec,
		},
		ConfigReporter: manager,
		ConfigPR:       manager,
		PRs:            manager,
		Forget:         a.st,
		Meta:           a.st,
		Schedule:       a.st,
		Commands:       pipeline,
	}
	opts := queueOptions(s, log, a.reg)
	discovery(&opts, &worker.Discoverer{Clients: clients, Known: a.st})
	q, err := queue.New(ctx, a.st, keyWorker, opts)
	if err != nil {
		return nil, err
	}
	l.q = q
	a.reg.MustRegister(queue.NewStatsCollector(q))
	if err := q.Start(ctx); err != nil {
		return nil, err
	}
	if s.AdminPassword != "" {
		ui, err := q.UI(ctx, "/riverui")
		if err != nil {
			return nil, err
		}
		l.ui = ui
	}
	l.hooks = githubapp.NewEventDispatcher(handlers.All(handlers.Deps{
		Clients: clients, Configs: configs, Index: a.st, Queue: q, Identity: l.identity, RegistryHost: registryHost(s.GitHub.WebURL),
	}), s.GitHub.App.WebhookSecret, githubapp.WithErrorCallback(webhookError))
	// Only once everything is up, so a failed start logs nothing after it.
	go a.learnIdentity(ctx, l)
	return l, nil
}

// discovery has the leader look for installed repositories tend does not
// know every 6 hours, and lists the installations deliveries ask for.
func discovery(opts *queue.Options, d *worker.Discoverer) {
	opts.Periodic = append(opts.Periodic, queue.Periodic{Name: "discover", Interval: 6 * time.Hour, Run: d.Discover})
	opts.InstallationRepos = d.InstallationRepos
}

// learnIdentity reads the App's slug, which names its bot account, retrying
// until GitHub answers.
func (a *app) learnIdentity(ctx context.Context, l *live) {
	delay := time.Second
	for {
		client, err := l.clients.NewAppClient()
		if err == nil {
			var app *github.App
			app, _, err = client.Apps.Get(ctx, "")
			if err == nil && app.GetSlug() == "" {
				err = errNoSlug
			}
			if err == nil {
				l.identity.SetSlug(app.GetSlug())
				a.log.Info().Str("bot", l.identity.BotLogin()).Msg("learned the App's identity")
				return
			}
		}
		a.log.Warn().Err(err).Dur("retry_in", delay).Msg("reading the App's identity (GET /app)")
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(delay*2, 5*time.Minute)
	}
}

var errNoSlug = errors.New("GitHub did not return the App's slug")
