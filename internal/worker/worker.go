package worker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v89/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/tend-app/tend/internal/config"
	"github.com/tend-app/tend/internal/keys"
	"github.com/tend-app/tend/internal/queue"
	"github.com/tend-app/tend/reconcilers"
	"github.com/tend-app/tend/reconcilers/changes"
	"github.com/tend-app/tend/reconcilers/commands"
)

// ConfigReporter tells a repository's people that its config is invalid
// (a failing check run on the commit that introduced it).
type ConfigReporter interface {
	ReportConfig(ctx context.Context, client *github.Client, repo *github.Repository, loaded *config.Loaded) error
}

// PRs is what the worker needs of the change manager beyond reconciling:
// listing a rule's open bot PRs (so a resync also revisits PRs whose paths
// no longer exist or match; "" lists every rule's), and closing the PR of a
// key tend no longer manages.
type PRs interface {
	OpenPRKeys(ctx context.Context, client *github.Client, owner, repo, rule string) ([]keys.Key, error)
	Close(ctx context.Context, client *github.Client, owner, repo string, k keys.Key, reason string) (changes.Outcome, error)
}

// RepoMeta caches repository metadata that runs need but that rarely
// changes (the store implements it), so a run does not ask GitHub for it.
type RepoMeta interface {
	DefaultBranch(ctx context.Context, repo string) (string, error)
	SetDefaultBranch(ctx context.Context, repo, branch string) error
}

// RuleSchedule learns that a rule was resynced, so a resync that was due
// (a new rule's first) is not run again.
type RuleSchedule interface {
	RuleSynced(ctx context.Context, repo, rule string) error
}

// Forgetter drops what tend knows of a repository it lost access to.
type Forgetter interface {
	ForgetRepo(ctx context.Context, repo string) error
}

// Worker runs keys; it implements queue.Runner.
type Worker struct {
	Clients       githubapp.ClientCreator
	Installations githubapp.InstallationsService
	Configs       *config.Cache
	// Reconcilers by the name rules use in `reconciler:`.
	Reconcilers map[string]reconcilers.Reconciler
	// Optional collaborators; nil disables what they do.
	ConfigReporter ConfigReporter
	ConfigPR       ConfigPRReporter
	PRs            PRs
	Forget         Forgetter
	Meta           RepoMeta
	Schedule       RuleSchedule
	// Commands reads comment commands before each path or issue key runs.
	Commands *commands.Pipeline
	// MaxPaths bounds the keys one rule resync enqueues (default 5000).
	MaxPaths int
	// MaxTrees bounds the tree requests of one rule resync when GitHub
	// truncates the recursive listing (default 1000).
	MaxTrees int
}

// Run implements queue.Runner.
func (w *Worker) Run(ctx context.Context, run queue.Run) (reconcilers.Result, error) {
	k := run.Key
	log := zerolog.Nop()
	if run.Log != nil {
		log = *run.Log
	}
	inst, err := w.Installations.GetByRepository(ctx, k.Owner, k.Repo)
	if err != nil {
		var nf githubapp.InstallationNotFound
		if errors.As(err, &nf) {
			log.Info().Msg("repository is not installed any more; forgetting it")
			if w.Forget != nil {
				if err := w.Forget.ForgetRepo(ctx, k.FullName()); err != nil {
					return reconcilers.Result{}, err
				}
			}
			return reconcilers.Result{Outcome: "not-installed"}, nil
		}
		return reconcilers.Result{}, classify(fmt.Errorf("find installation of %s: %w", k.FullName(), err))
	}
	if run.Log != nil {
		run.Log.UpdateContext(func(c zerolog.Context) zerolog.Context {
			return c.Int64(githubapp.LogKeyInstallationID, inst.ID)
		})
		log = *run.Log
	}
	client, err := w.Clients.NewInstallationClient(inst.ID)
	if err != nil {
		return reconcilers.Result{}, fmt.Errorf("client for installation %d: %w", inst.ID, err)
	}
	ctx = log.WithContext(ctx)
	clientFn := func() (*github.Client, error) { return client, nil }

	var res reconcilers.Result
	switch k.Kind() {
	case keys.KindRepo:
		res, err = w.syncRepo(ctx, log, client, inst.ID, k, run.Trigger, clientFn)
	case keys.KindRule:
		res, err = w.syncRule(ctx, log, client, inst.ID, k, clientFn)
	case keys.KindIssue:
		if k.Rule == keys.ConfigRule {
			res, err = w.checkConfigPR(ctx, client, k)
			break
		}
		res, err = w.reconcile(ctx, log, client, inst.ID, run, clientFn)
	default:
		res, err = w.reconcile(ctx, log, client, inst.ID, run, clientFn)
	}
	if suspended(err) {
		// Retrying cannot help and would end in the dead letters; the
		// unsuspend webhook resyncs every repository of the installation.
		log.Info().Err(err).Msg("the installation is suspended; dropping the run")
		return reconcilers.Result{Outcome: "installation-suspended"}, nil
	}
	return res, classify(err)
}

// suspended reports whether GitHub refused a run because its installation
// is suspended: a 403 on the installation token request, or a 403 saying
// so on an API call made with a token issued before the suspension.
func suspended(err error) bool {
	if err == nil {
		return false
	}
	var tokenErr *ghinstallation.HTTPError
	if errors.As(err, &tokenErr) && tokenErr.Response != nil && tokenErr.Response.StatusCode == http.StatusForbidden {
		return true
	}
	var resp *github.ErrorResponse
	return errors.As(err, &resp) && resp.Response != nil && resp.Response.StatusCode == http.StatusForbidden &&
		strings.Contains(strings.ToLower(resp.Message), "suspended")
}

// syncRepo reloads a repository's config; when it changed (or was never
// seen), or the App was just installed, every rule is resynced. An invalid
// config is reported.
func (w *Worker) syncRepo(ctx context.Context, log zerolog.Logger, client *github.Client, installationID int64, k keys.Key, trigger string, clientFn config.ClientFunc) (reconcilers.Result, error) {
	loaded, changed, err := w.Configs.Refresh(ctx, k.Owner, k.Repo, installationID, clientFn)
	if err != nil {
		return reconcilers.Result{}, err
	}
	repo, _, err := client.Repositories.Get(ctx, k.Owner, k.Repo)
	if err != nil {
		return reconcilers.Result{}, fmt.Errorf("read repository: %w", err)
	}
	w.rememberBranch(ctx, k, repo.GetDefaultBranch())
	// Report on the config when it changed, or may have (a webhook handler
	// may have cached the new file before this run saw it), or when people
	// re-ran the config's check run.
	report := w.ConfigReporter != nil && (changed || mayHaveChangedConfig(trigger) || strings.HasPrefix(trigger, "check_run"))
	if len(loaded.Invalid) > 0 {
		log.Warn().Str("config", loaded.Path).Str("errors", loaded.Invalid.Error()).Msg("invalid config; nothing runs until it is fixed")
		if report {
			if err := w.ConfigReporter.ReportConfig(ctx, client, repo, loaded); err != nil {
				return reconcilers.Result{}, fmt.Errorf("report invalid config: %w", err)
			}
		}
		return reconcilers.Result{Outcome: "invalid-config"}, nil
	}
	if !loaded.Managed() {
		if changed {
			// The config was removed: tend's open PRs have no owner now.
			if err := w.closeAllPRs(ctx, client, k); err != nil {
				return reconcilers.Result{}, err
			}
		}
		return reconcilers.Result{Outcome: "unmanaged"}, nil
	}
	if report && loaded.Managed() {
		// A config that became valid clears an earlier failing report.
		if err := w.ConfigReporter.ReportConfig(ctx, client, repo, loaded); err != nil {
			return reconcilers.Result{}, fmt.Errorf("report config: %w", err)
		}
	}
	// An installation (or a re-installation), or an event the webhook
	// handler could not map to keys, resyncs everything even when the config
	// is unchanged: tend may have missed events meanwhile.
	if !changed && !resyncsAll(trigger) {
		return reconcilers.Result{Outcome: "config-unchanged"}, nil
	}
	var ks []keys.Key
	for _, r := range loaded.Config.Rules {
		if rk, err := keys.ForRule(k.Owner, k.Repo, r.Name); err == nil {
			ks = append(ks, rk)
		}
	}
	return reconcilers.Result{Outcome: "config-loaded", Enqueue: ks}, nil
}

// mayHaveChangedConfig reports whether a run's trigger may have changed
// the config without this run seeing it change.
func mayHaveChangedConfig(trigger string) bool {
	return strings.HasPrefix(trigger, "push") || strings.HasPrefix(trigger, "installation")
}

// resyncsAll reports whether a trigger resyncs every rule even when the
// config is unchanged: installations, events that could not be mapped, and
// an operator's `tend enqueue owner/repo`.
func resyncsAll(trigger string) bool {
	return strings.HasPrefix(trigger, "installation") || strings.HasPrefix(trigger, "resync-all") || trigger == queue.TriggerManual
}

// reasonUnmanaged closes the PRs of a repository whose config is gone.
const reasonUnmanaged = "This repository no longer has a `.github/tend.yaml`, so tend no longer manages it. Closing this pull request."

// closeAllPRs closes every open tend PR of the repository.
func (w *Worker) closeAllPRs(ctx context.Context, client *github.Client, k keys.Key) error {
	if w.PRs == nil {
		return nil
	}
	open, err := w.PRs.OpenPRKeys(ctx, client, k.Owner, k.Repo, "")
	if err != nil {
		return err
	}
	for _, pk := range open {
		if _, err := w.PRs.Close(ctx, client, k.Owner, k.Repo, pk, reasonUnmanaged); err != nil {
			return err
		}
	}
	return nil
}

// syncRule lists the paths a rule matches on the default branch (and the
// open requests and PRs it owns) and enqueues a key for each.
func (w *Worker) syncRule(ctx context.Context, log zerolog.Logger, client *github.Client, installationID int64, k keys.Key, clientFn config.ClientFunc) (reconcilers.Result, error) {
	loaded, err := w.Configs.Get(ctx, k.Owner, k.Repo, installationID, clientFn)
	if err != nil {
		return reconcilers.Result{}, err
	}
	if !loaded.Managed() {
		return reconcilers.Result{Outcome: "unmanaged"}, nil
	}
	rule, ok := loaded.Config.Rule(k.Rule)
	if !ok {
		return reconcilers.Result{Outcome: "rule-gone"}, nil
	}
	branch, err := w.defaultBranch(ctx, client, k)
	if err != nil {
		return reconcilers.Result{}, err
	}
	paths, err := w.listPaths(ctx, client, k.Owner, k.Repo, branch, rule)
	if err != nil {
		return reconcilers.Result{}, err
	}
	maxPaths := w.MaxPaths
	if maxPaths <= 0 {
		maxPaths = 5000
	}
	if len(paths) > maxPaths {
		log.Warn().Int("paths", len(paths)).Int("limit", maxPaths).Msg("rule matches too many paths; resyncing the first ones")
		paths = paths[:maxPaths]
	}
	var ks []keys.Key
	seen := map[string]bool{}
	add := func(key keys.Key) {
		if !seen[key.String()] {
			seen[key.String()] = true
			ks = append(ks, key)
		}
	}
	for _, p := range paths {
		if pk, err := keys.ForPath(k.Owner, k.Repo, rule.Name, p); err == nil {
			add(pk)
		}
	}
	if rule.On.IssueLabel != "" {
		issues, err := w.labelledIssues(ctx, client, k.Owner, k.Repo, rule.On.IssueLabel)
		if err != nil {
			return reconcilers.Result{}, err
		}
		for _, n := range issues {
			if ik, err := keys.ForIssue(k.Owner, k.Repo, rule.Name, n); err == nil {
				add(ik)
			}
		}
	}
	if w.PRs != nil {
		prKeys, err := w.PRs.OpenPRKeys(ctx, client, k.Owner, k.Repo, rule.Name)
		if err != nil {
			return reconcilers.Result{}, err
		}
		for _, pk := range prKeys {
			add(pk)
		}
	}
	if w.Schedule != nil {
		if err := w.Schedule.RuleSynced(ctx, k.FullName(), rule.Name); err != nil {
			log.Warn().Err(err).Msg("recording the resync; the rule may resync once more")
		}
	}
	return reconcilers.Result{Outcome: "resynced", Enqueue: ks}, nil
}

// maxIssuesPerResync bounds the open requests one rule resync revisits.
const maxIssuesPerResync = 100

func (w *Worker) labelledIssues(ctx context.Context, client *github.Client, owner, repo, label string) ([]int, error) {
	var out []int
	opts := &github.IssueListByRepoOptions{State: "open", Labels: []string{label}, ListOptions: github.ListOptions{PerPage: 100}}
	for len(out) < maxIssuesPerResync {
		issues, resp, err := client.Issues.ListByRepo(ctx, owner, repo, opts)
		if err != nil {
			return nil, fmt.Errorf("list issues labelled %q: %w", label, err)
		}
		for _, is := range issues {
			if !is.IsPullRequest() && len(out) < maxIssuesPerResync {
				out = append(out, is.GetNumber())
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.ListOptions.Page = resp.NextPage
	}
	return out, nil
}

// reconcile runs the rule's reconciler on a path or issue key.
func (w *Worker) reconcile(ctx context.Context, log zerolog.Logger, client *github.Client, installationID int64, run queue.Run, clientFn config.ClientFunc) (reconcilers.Result, error) {
	k := run.Key
	loaded, err := w.Configs.Get(ctx, k.Owner, k.Repo, installationID, clientFn)
	if err != nil {
		return reconcilers.Result{}, err
	}
	if len(loaded.Invalid) > 0 {
		// Nothing runs for a repository whose config is invalid, and nothing
		// it opened is closed either: the config may be fixed in a minute.
		return reconcilers.Result{Outcome: "invalid-config"}, nil
	}
	var rule config.Rule
	ok := false
	if loaded.Managed() {
		rule, ok = loaded.Config.Rule(k.Rule)
	}
	if !ok {
		return w.unmanagedKey(ctx, client, k, loaded.Managed())
	}
	rec, ok := w.Reconcilers[rule.Reconciler]
	if !ok || rec == nil {
		return reconcilers.Result{}, reconcilers.Permanent(fmt.Errorf("rule %q uses reconciler %q, which this version of tend does not provide", rule.Name, rule.Reconciler))
	}
	if k.Kind() == keys.KindPath && !rule.Matches(k.Path) {
		return w.unmatchedPath(ctx, client, k)
	}
	steer, err := w.steer(ctx, client, run, rule)
	if err != nil {
		return reconcilers.Result{}, err
	}
	if steer.outcome != "" {
		return reconcilers.Result{Outcome: steer.outcome}, w.finishSteer(ctx, steer, run, nil)
	}
	branch, err := w.defaultBranch(ctx, client, k)
	if err != nil {
		return reconcilers.Result{}, err
	}
	res, err := rec.Reconcile(ctx, reconcilers.Request{
		Key: k, Rule: rule, Config: loaded.Config, DefaultBranch: branch, Client: client,
		InstallationID: installationID, Trigger: run.Trigger, Attempt: run.Attempt, Delivery: run.Delivery,
		Steering: steer.steering, PR: steer.newest, PRRead: steer.read,
		Log: log.With().Str("rule", rule.Name).Str("reconciler", rule.Reconciler).Logger(),
	})
	if ferr := w.finishSteer(ctx, steer, run, classify(err)); ferr != nil {
		return reconcilers.Result{}, ferr
	}
	if errors.Is(err, changes.ErrBranchNotFound) {
		// Renamed or deleted default branch: ask GitHub next time.
		if w.Meta != nil {
			_ = w.Meta.SetDefaultBranch(ctx, k.FullName(), "")
		}
	}
	if err != nil {
		return reconcilers.Result{}, err
	}
	return res, nil
}

// unmanagedKey closes the PR of a key whose rule (or whole config) is
// gone.
func (w *Worker) unmanagedKey(ctx context.Context, client *github.Client, k keys.Key, managed bool) (reconcilers.Result, error) {
	reason := fmt.Sprintf("The rule `%s` is no longer in `.github/tend.yaml`, so tend no longer manages this. Closing this pull request.", k.Rule)
	if !managed {
		reason = reasonUnmanaged
	}
	if w.PRs != nil && k.Kind() != keys.KindRule {
		out, err := w.PRs.Close(ctx, client, k.Owner, k.Repo, k, reason)
		if err != nil {
			return reconcilers.Result{}, err
		}
		if out.Action == "closed" {
			return reconcilers.Result{Outcome: "pr-closed", Enqueue: out.Wake}, nil
		}
	}
	if !managed {
		return reconcilers.Result{Outcome: "unmanaged"}, nil
	}
	return reconcilers.Result{Outcome: "rule-gone"}, nil
}

// unmatchedPath closes the PR of a path key the rule's globs no longer
// cover (they changed).
func (w *Worker) unmatchedPath(ctx context.Context, client *github.Client, k keys.Key) (reconcilers.Result, error) {
	if w.PRs != nil {
		reason := fmt.Sprintf("`%s` is no longer matched by the paths of rule `%s`, so tend no longer manages it. Closing this pull request.", k.Path, k.Rule)
		if _, err := w.PRs.Close(ctx, client, k.Owner, k.Repo, k, reason); err != nil {
			return reconcilers.Result{}, err
		}
	}
	return reconcilers.Result{Outcome: "path-unmatched"}, nil
}

// defaultBranch returns the repository's default branch as the database
// records it or, when it records none, as GitHub says. The row is read on
// every run, not remembered in memory: whichever replica learns of a new
// default branch (the repository webhook, a repository resync) records it
// there, and every replica's next run must use it. It is one indexed read.
func (w *Worker) defaultBranch(ctx context.Context, client *github.Client, k keys.Key) (string, error) {
	if w.Meta != nil {
		b, err := w.Meta.DefaultBranch(ctx, k.FullName())
		if err != nil {
			return "", err
		}
		if b != "" {
			return b, nil
		}
	}
	repo, _, err := client.Repositories.Get(ctx, k.Owner, k.Repo)
	if err != nil {
		return "", fmt.Errorf("read repository: %w", err)
	}
	w.rememberBranch(ctx, k, repo.GetDefaultBranch())
	return repo.GetDefaultBranch(), nil
}

func (w *Worker) rememberBranch(ctx context.Context, k keys.Key, branch string) {
	if branch == "" {
		return
	}
	if w.Meta != nil {
		if err := w.Meta.SetDefaultBranch(ctx, k.FullName(), branch); err != nil {
			zerolog.Ctx(ctx).Warn().Err(err).Msg("recording the default branch")
		}
	}
}

// classify turns GitHub's rate-limit answers into "retry after" and
// everything else into an ordinary, backed-off retry.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var rl *github.RateLimitError
	if errors.As(err, &rl) {
		wait := time.Until(rl.Rate.Reset.Time) + time.Second
		return reconcilers.RetryAfter(err, max(wait, time.Second))
	}
	var abuse *github.AbuseRateLimitError
	if errors.As(err, &abuse) {
		wait := time.Minute
		if abuse.RetryAfter != nil && *abuse.RetryAfter > 0 {
			wait = *abuse.RetryAfter
		}
		return reconcilers.RetryAfter(err, wait)
	}
	var resp *github.ErrorResponse
	if errors.As(err, &resp) && resp.Response != nil && resp.Response.StatusCode == http.StatusTooManyRequests {
		wait := time.Minute
		if ra := resp.Response.Header.Get("Retry-After"); ra != "" {
			if d, perr := time.ParseDuration(ra + "s"); perr == nil && d > 0 {
				wait = d
			}
		}
		return reconcilers.RetryAfter(err, wait)
	}
	return err
}
