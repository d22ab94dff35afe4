package reconcilers

import (
	"context"
	"time"

	"github.com/google/go-github/v89/github"
	"github.com/rs/zerolog"

	"github.com/tend-app/tend/internal/config"
	"github.com/tend-app/tend/internal/keys"
)

// Reconciler makes the files of one key match their desired state.
type Reconciler interface {
	// Reconcile reads the current state for req.Key, computes the desired
	// state and makes GitHub match. It must honour ctx. Errors are retried
	// with backoff; wrap them with Permanent or RetryAfter to
	// say otherwise.
	Reconcile(ctx context.Context, req Request) (Result, error)
}

// Request is everything a reconciler is given for one run.
type Request struct {
	Key            keys.Key
	Rule           config.Rule
	Config         *config.Config
	DefaultBranch  string         // the base branch of the key's PR
	Client         *github.Client // the installation's client (conditional-request cache)
	InstallationID int64
	// Trigger says what last asked for the key ("push:<before>..<after>",
	// "release:<owner/name>@<tag>", "issues:opened", "resync", ...): a hint
	// for explanations and prompts; the reconciler still reads the world.
	Trigger string
	// Attempt is 1 for a first try, more for retries.
	Attempt int
	// Delivery is the last webhook delivery that asked for the key.
	Delivery string
	// Steering is what people asked through commands and buttons.
	Steering Steering
	// PR is the key's newest pull request as this run's comment commands
	// read it just before (nil when it has none), when PRRead says they
	// did: the reconciler need not list the key's PRs again.
	PR     *github.PullRequest
	PRRead bool
	Log    zerolog.Logger
}

// Result is what a run did.
type Result struct {
	// Outcome is one short word for logs and metrics: "noop", "pr-opened",
	// "pr-updated", "pr-closed", ...
	Outcome string
	// RequeueAfter asks for another run after this long (e.g. the open-PR
	// limit is reached).
	RequeueAfter time.Duration
	// Enqueue are other keys to run (keys woken by a freed PR slot),
	// enqueued with this run's completion.
	Enqueue []keys.Key
	// PR is the number of the key's pull request after the run, 0 for none
	// (shown to operators).
	PR int
}

// Func adapts a function to Reconciler.
type Func func(ctx context.Context, req Request) (Result, error)

func (f Func) Reconcile(ctx context.Context, req Request) (Result, error) { return f(ctx, req) }
