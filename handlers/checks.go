package handlers

import (
	"context"
	"strings"

	"github.com/tend-app/tend/internal/keys"
)

// CheckRun maps "Re-run" and action buttons on tend's own check runs to the
// key the check run reports on, which tend stores as its external id.
type CheckRun struct{ Deps }

func (h *CheckRun) Handles() []string { return []string{"check_run"} }

func (h *CheckRun) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var ev checkRunPayload
	if err := decode(eventType, deliveryID, payload, &ev); err != nil {
		return err
	}
	switch ev.Action {
	case "rerequested", "requested_action":
	default:
		return ignore(ctx, "check run "+ev.Action)
	}
	if h.Identity == nil || h.Identity.AppID == 0 || ev.CheckRun.App.ID != h.Identity.AppID {
		return ignore(ctx, "not a tend check run")
	}
	k, err := keys.Parse(ev.CheckRun.ExternalID)
	if err != nil || !strings.EqualFold(k.FullName(), ev.Repository.FullName) {
		return ignore(ctx, "check run carries no key of this repository")
	}
	ctx, _ = repoContext(ctx, ev.Installation.ID, ev.Repository.FullName)
	return h.enqueue(ctx, eventType, deliveryID, "check_run:"+ev.Action, []keys.Key{k})
}

// PullRequest maps changes people make to tend's PRs — closing, reopening,
// editing, pushing to the branch — to the PR's key. tend's own edits and
// pushes are dropped: reacting to them would loop.
type PullRequest struct{ Deps }

func (h *PullRequest) Handles() []string { return []string{"pull_request"} }

func (h *PullRequest) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var ev pullRequestPayload
	if err := decode(eventType, deliveryID, payload, &ev); err != nil {
		return err
	}
	if h.Identity.IsBot(ev.Sender.Login, ev.Sender.Type) {
		return ignore(ctx, "sent by tend")
	}
	pr := ev.PullRequest
	var ks []keys.Key
	if k, ok := configCheckKey(ev); ok {
		ks = append(ks, k)
	}
	switch ev.Action {
	case "closed", "reopened", "edited", "synchronize":
		if k, ok := h.botPRKey(ev.Repository.FullName, pr.User, pr.Head.Ref, pr.Body); ok {
			ks = append(ks, k)
		}
	}
	if len(ks) == 0 {
		return ignore(ctx, "pull request "+ev.Action+": not a tend pull request")
	}
	ctx, _ = repoContext(ctx, ev.Installation.ID, ev.Repository.FullName)
	return h.enqueue(ctx, eventType, deliveryID, "pull_request:"+ev.Action, ks)
}

// configCheckKey is the key that checks the config a pull request may
// propose (the worker looks whether it changes .github/tend.yaml): for
// every new head commit of an open pull request.
func configCheckKey(ev pullRequestPayload) (keys.Key, bool) {
	switch ev.Action {
	case "opened", "reopened", "synchronize":
	default:
		return keys.Key{}, false
	}
	owner, repo, ok := strings.Cut(ev.Repository.FullName, "/")
	if !ok || ev.PullRequest.Number <= 0 {
		return keys.Key{}, false
	}
	k, err := keys.ForIssue(owner, repo, keys.ConfigRule, ev.PullRequest.Number)
	return k, err == nil
}
