package worker

import (
	"context"
	"strings"

	"github.com/google/go-github/v89/github"
	"github.com/rs/zerolog"

	"github.com/tend-app/tend/internal/config"
	"github.com/tend-app/tend/internal/keys"
	"github.com/tend-app/tend/internal/queue"
	"github.com/tend-app/tend/reconcilers"
	"github.com/tend-app/tend/reconcilers/changes"
	"github.com/tend-app/tend/reconcilers/commands"
)

// Triggers of the buttons on tend's check runs (see handlers.CheckRun).
const (
	triggerRerun  = "check_run:rerequested"
	triggerAction = "check_run:requested_action:"
	// triggerComment starts the trigger of a run a comment asked for.
	triggerComment = "issue_comment:"
)

// steered is what the command pipeline made of a run before its reconciler.
type steered struct {
	target   *commands.Target
	steering reconcilers.Steering
	// outcome, when set, ends the run without reconciling (skipped).
	outcome string
	// newest is the key's newest PR as the commands read it (nil: none),
	// when read says they did; the reconciler does not list it again.
	newest *github.PullRequest
	read   bool
}

// steer reads the key's new comment commands (and the button that started
// the run) and applies the skip label; it says what the reconciler must do.
func (w *Worker) steer(ctx context.Context, client *github.Client, run queue.Run, rule config.Rule) (steered, error) {
	s := steered{steering: buttonSteering(run.Trigger)}
	if w.Commands == nil {
		return s, nil
	}
	t, err := w.Commands.Load(ctx, client, run.Key)
	if err != nil {
		return s, err
	}
	// Pickup and SetSkip keep t.Newest's body and labels up to date.
	s.newest, s.read = t.Newest, true
	if t.PR == nil && run.Key.Kind() == keys.KindPath {
		t = declinedPR(client, run.Key, t)
	}
	s.target = t
	b, err := w.Commands.Pickup(ctx, t, commands.Options{
		Deterministic: rule.Reconciler != config.ReconcilerAgent,
		Comment:       strings.HasPrefix(run.Trigger, triggerComment),
	})
	if err != nil {
		return s, err
	}
	// A button (GitHub shows them to people with write access only) is a
	// `/reconcile`: it resumes a skipped PR, unless a command in this
	// batch asked to skip.
	resume := b.Resume || (s.steering.Fresh && !b.Skip)
	if b.Skip || resume {
		if err := t.SetSkip(ctx, b.Skip); err != nil {
			return s, err
		}
	}
	if p := t.Ledger.Pending; p != nil {
		s.steering.Fresh = s.steering.Fresh || p.Fresh
		s.steering.Recreate = s.steering.Recreate || p.Recreate
		// A writer's command asks for the key's change: a decline of its
		// newest PR no longer holds.
		s.steering.Reconsider = len(p.Ack) > 0
	}
	s.steering.Instructions = t.Ledger.Instructions
	// A comment without an accepted command still runs the key like any
	// other hint (the trigger may stand for an earlier event too); with
	// nothing pending the run changes nothing visible and calls no model.
	// Only the skip label stops it.
	if t.Skipped() {
		s.outcome = "skipped"
	}
	return s, nil
}

// declinedPR returns the target of a path key's newest PR when a person
// closed it unmerged (declined it), so that commands on it are read: a
// writer's /reconcile there asks for the declined change anyway. Otherwise
// it returns t (Load's target, without a PR).
func declinedPR(client *github.Client, k keys.Key, t *commands.Target) *commands.Target {
	pr, st := t.Newest, t.NewestState
	if pr == nil || pr.GetState() != "closed" || pr.MergedAt != nil || st.Resolved {
		return t
	}
	return commands.TargetForPR(client, k, pr, st)
}

// buttonSteering is what a click on a check run's button asks for.
func buttonSteering(trigger string) reconcilers.Steering {
	switch {
	case trigger == triggerRerun, trigger == triggerAction+changes.ActionReconcile:
		return reconcilers.Steering{Fresh: true}
	case trigger == triggerAction+changes.ActionRecreate:
		return reconcilers.Steering{Fresh: true, Recreate: true}
	}
	return reconcilers.Steering{}
}

// finishSteer acknowledges the run's commands: done, or failed for good.
// A run that will be retried leaves them pending for the retry.
func (w *Worker) finishSteer(ctx context.Context, s steered, run queue.Run, runErr error) error {
	if s.target == nil {
		return nil
	}
	final := runErr == nil || reconcilers.IsPermanent(runErr) || (run.MaxAttempts > 0 && run.Attempt >= run.MaxAttempts)
	if _, later := reconcilers.RetryAfterDelay(runErr); later {
		final = false
	}
	err := w.Commands.Finish(ctx, s.target, runErr, final)
	if err != nil && runErr != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("acknowledging commands")
		return nil
	}
	return err
}
