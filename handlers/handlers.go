package handlers

import (
	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/tend-app/tend/internal/botpr"

	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-github/v89/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/tend-app/tend/internal/config"
	"github.com/tend-app/tend/internal/keys"
	"github.com/tend-app/tend/internal/queue"
	"github.com/tend-app/tend/internal/store"
)

// Intaker durably enqueues a delivery's keys (the queue implements it).
type Intaker interface {
	Intake(ctx context.Context, d queue.Delivery, ks []keys.Key) (queue.IntakeResult, error)
}

// Index answers the questions about all repositories that a single event
// raises (the store implements it).
type Index interface {
	ReleaseSubscribers(ctx context.Context, source string) ([]store.RuleRef, error)
	ReposUsingConfig(ctx context.Context, source string) ([]store.ConfigUser, error)
	ForgetRepo(ctx context.Context, repo string) error
	RenameRepo(ctx context.Context, from, to string) error
	KeysForImage(ctx context.Context, image string) ([]string, error)
	// ReposOfInstallation lists the repositories tend knows through an
	// installation.
	ReposOfInstallation(ctx context.Context, installationID int64) ([]string, error)
	// SetDefaultBranch records a repository's default branch, which every
	// replica's runs read.
	SetDefaultBranch(ctx context.Context, repo, branch string) error
}

// Deps are what every handler needs.
type Deps struct {
	Clients  githubapp.ClientCreator
	Configs  *config.Cache
	Index    Index
	Queue    Intaker
	Identity *botpr.Identity
	// RegistryHost is the container registry of the GitHub instance
	// (ghcr.io; containers.HOST on GitHub Enterprise Server).
	RegistryHost string
	// configUsers caches Index.ReposUsingConfig, asked on every push:
	// almost always the answer is "none", and asking the database each
	// time costs the intake path a query.
	configUsers *expirable.LRU[string, []store.ConfigUser]
}

// All returns one handler per event family tend listens to.
func All(d Deps) []githubapp.EventHandler {
	d.configUsers = expirable.NewLRU[string, []store.ConfigUser](usersCacheEntries, nil, usersCacheTTL)
	return handlersOf(d)
}

func handlersOf(d Deps) []githubapp.EventHandler {
	return []githubapp.EventHandler{
		&Push{d}, &Release{d}, &Issues{d}, &IssueComment{d},
		&CheckRun{d}, &PullRequest{d}, &Installation{d}, &Packages{d},
		&CheckSuite{d}, &Status{d}, &WorkflowRun{d}, &Review{d}, &Repository{d},
	}
}

// Events lists every event tend's handlers take. app.yml must subscribe to
// each (installation events aside: every App receives them); a test holds
// it to that.
func Events() []string {
	var out []string
	for _, h := range handlersOf(Deps{}) {
		out = append(out, h.Handles()...)
	}
	return out
}

// decode parses a payload; a malformed one is the sender's fault and is
// answered with 400 through go-githubapp's ValidationError.
func decode(eventType, deliveryID string, payload []byte, v any) error {
	if err := json.Unmarshal(payload, v); err != nil {
		return githubapp.ValidationError{EventType: eventType, DeliveryID: deliveryID, Cause: fmt.Errorf("malformed %s payload: %w", eventType, err)}
	}
	return nil
}

// summary is the body of tend's answer to a delivery, visible in GitHub's
// "Recent Deliveries" view, which makes "why did nothing happen" answerable.
type summary struct {
	Keys      []string `json:"keys"`
	Inserted  int      `json:"inserted"`
	Collapsed int      `json:"collapsed"`
	Duplicate bool     `json:"duplicate,omitempty"`
	Ignored   string   `json:"ignored,omitempty"`
	// Installations are listed through GitHub by a queued job, and each of
	// their repositories resynced (the payload did not list them).
	Installations []int64 `json:"installations,omitempty"`
}

const maxKeysInSummary = 50

func respond(ctx context.Context, s summary) {
	if len(s.Keys) > maxKeysInSummary {
		s.Keys = append(s.Keys[:maxKeysInSummary:maxKeysInSummary], fmt.Sprintf("... and %d more", len(s.Keys)-maxKeysInSummary))
	}
	githubapp.SetResponder(ctx, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_ = json.NewEncoder(w).Encode(s)
	})
}

// ignore answers a delivery that maps to no keys, saying why.
func ignore(ctx context.Context, why string) error {
	zerolog.Ctx(ctx).Debug().Str("ignored", why).Msg("delivery maps to no keys")
	respond(ctx, summary{Keys: []string{}, Ignored: why})
	return nil
}

// enqueue takes in the delivery's keys and answers GitHub. trigger
// describes the event for the runs (see queue.Delivery); "" means the event
// type and action alone.
func (d Deps) enqueue(ctx context.Context, eventType, deliveryID, trigger string, ks []keys.Key) error {
	if len(ks) == 0 {
		return ignore(ctx, "no rule matches")
	}
	if trigger == "" {
		trigger = eventType
	}
	return d.intake(ctx, queue.Delivery{ID: deliveryID, Event: eventType, Trigger: trigger}, ks)
}

// intake durably takes in a delivery (its keys, and the installations it
// asks to list) and answers GitHub once that is committed.
func (d Deps) intake(ctx context.Context, del queue.Delivery, ks []keys.Key) error {
	res, err := d.Queue.Intake(ctx, del, ks)
	if err != nil {
		return fmt.Errorf("enqueue keys: %w", err)
	}
	names := make([]string, len(ks))
	for i, k := range ks {
		names[i] = k.String()
	}
	ev := zerolog.Ctx(ctx).Info().Int("keys", len(ks)).Int("inserted", res.Inserted).Int("collapsed", res.Collapsed).Bool("duplicate", res.Duplicate)
	if len(ks) <= 10 {
		ev = ev.Strs("key", names)
	}
	if len(del.Installations) > 0 {
		ev = ev.Ints64("list_installations", del.Installations)
	}
	ev.Msg("delivery enqueued")
	out := summary{Keys: names, Inserted: res.Inserted, Collapsed: res.Collapsed, Duplicate: res.Duplicate}
	if !res.Duplicate {
		out.Installations = del.Installations
	}
	respond(ctx, out)
	return nil
}

// TriggerResyncAll is the trigger of a repository key enqueued because an
// event could not be mapped to keys (its config could not be read): the
// key's run resyncs every rule, so the event is not lost.
const TriggerResyncAll = "resync-all"

// unmapped answers an event whose repository config could not be read
// (GitHub unavailable): rather than fail the delivery, which GitHub does not
// redeliver by itself, it enqueues the repository for a full resync.
func (d Deps) unmapped(ctx context.Context, eventType, deliveryID, owner, repo string, cause error) error {
	zerolog.Ctx(ctx).Warn().Err(cause).Msg("config unavailable; resyncing the repository instead")
	k, err := keys.ForRepo(owner, repo)
	if err != nil {
		return ignore(ctx, "invalid repository name")
	}
	return d.enqueue(ctx, eventType, deliveryID, TriggerResyncAll+":"+eventType, []keys.Key{k})
}

// loadConfig returns a repository's config from the cache.
func (d Deps) loadConfig(ctx context.Context, installationID int64, owner, repo string) (*config.Loaded, error) {
	l, err := d.Configs.Get(ctx, owner, repo, installationID, func() (*github.Client, error) {
		return d.Clients.NewInstallationClient(installationID)
	})
	if err != nil {
		return nil, fmt.Errorf("config of %s/%s: %w", owner, repo, err)
	}
	return l, nil
}

// repoContext adds the installation and repository to the request's logger.
func repoContext(ctx context.Context, installationID int64, fullName string) (context.Context, *zerolog.Logger) {
	l := zerolog.Ctx(ctx).With().Int64(githubapp.LogKeyInstallationID, installationID).Str("repo", fullName).Logger()
	return l.WithContext(ctx), &l
}

// splitFullName splits "owner/name".
func splitFullName(full string) (string, string, bool) {
	owner, name, ok := strings.Cut(full, "/")
	return owner, name, ok && owner != "" && name != ""
}

// ruleKeys returns one rule key per rule for which want reports true.
func ruleKeys(owner, repo string, cfg *config.Config, want func(config.Rule) bool) []keys.Key {
	var out []keys.Key
	for _, r := range cfg.Rules {
		if want(r) {
			if k, err := keys.ForRule(owner, repo, r.Name); err == nil {
				out = append(out, k)
			}
		}
	}
	return out
}

// isBotBranch reports whether a PR's head looks like one of tend's.
func isBotBranch(ref string) bool { return strings.HasPrefix(ref, botpr.BranchPrefix) }

// botPRKey returns the key of a PR that tend's bot opened, from the state
// block in its body. PRs by anyone else have no key, whatever their body says.
// The key must belong to the repository the event came from.
func (d Deps) botPRKey(repoFullName string, author user, headRef, body string) (keys.Key, bool) {
	if !d.Identity.IsBot(author.Login, author.Type) {
		return keys.Key{}, false
	}
	if headRef != "" && !isBotBranch(headRef) {
		return keys.Key{}, false
	}
	k, ok := botpr.StateKey(body)
	if !ok || !strings.EqualFold(k.FullName(), repoFullName) {
		return keys.Key{}, false
	}
	return k, true
}

// usersCacheTTL bounds how long a push may miss a repository that started
// reading its config from the pushed repository (another replica loaded it).
// The miss is repaired by that repository's own periodic resync.
const usersCacheTTL = 30 * time.Second

// usersCacheEntries bounds the source repositories remembered.
const usersCacheEntries = 100000

// reposUsingConfig returns the repositories that read their config from
// source.
func (d Deps) reposUsingConfig(ctx context.Context, source string) ([]store.ConfigUser, error) {
	if d.configUsers == nil {
		return d.Index.ReposUsingConfig(ctx, source)
	}
	key := strings.ToLower(source)
	if users, ok := d.configUsers.Get(key); ok {
		return users, nil
	}
	users, err := d.Index.ReposUsingConfig(ctx, source)
	if err != nil {
		return nil, err
	}
	d.configUsers.Add(key, users)
	return users, nil
}
