package handlers

import (
	"context"
	"strings"

	"github.com/google/go-github/v89/github"

	"github.com/tend-app/tend/keys"
)

// CheckRun maps "Re-run" and action buttons on tend's own check runs to the
// key the check run reports on, which tend stores as its external id.
type CheckRun struct{ Deps }

func (h *CheckRun) Handles() []string { return []string{"check_run"} }

func (h *CheckRun) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var ev github.CheckRunEvent
	if err := decode(eventType, deliveryID, payload, &ev); err != nil {
		return err
	}
	switch ev.GetAction() {
	case "rerequested", "requested_action":
	default:
		return ignore(ctx, "check run "+ev.GetAction())
	}
	cr := ev.GetCheckRun()
	if h.Identity == nil || cr.GetApp().GetID() != h.Identity.AppID || h.Identity.AppID == 0 {
		return ignore(ctx, "not a tend check run")
	}
	k, err := keys.Parse(cr.GetExternalID())
	if err != nil || !strings.EqualFold(k.FullName(), ev.GetRepo().GetFullName()) {
		return ignore(ctx, "check run carries no key of this repository")
	}
	ctx, _ = repoContext(ctx, ev.GetInstallation().GetID(), ev.GetRepo().GetFullName())
	return h.enqueue(ctx, eventType, deliveryID, []keys.Key{k})
}

// PullRequest maps changes people make to tend's PRs — closing, reopening,
// editing, pushing to the branch — to the PR's key. tend's own edits and
// pushes are dropped: reacting to them would loop.
type PullRequest struct{ Deps }

func (h *PullRequest) Handles() []string { return []string{"pull_request"} }

func (h *PullRequest) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var ev github.PullRequestEvent
	if err := decode(eventType, deliveryID, payload, &ev); err != nil {
		return err
	}
	switch ev.GetAction() {
	case "closed", "reopened", "edited", "synchronize":
	default:
		return ignore(ctx, "pull request "+ev.GetAction())
	}
	if s := ev.GetSender(); s != nil && h.Identity.IsBot(s.GetLogin(), s.GetType()) {
		return ignore(ctx, "sent by tend")
	}
	pr := ev.GetPullRequest()
	k, ok := h.botPRKey(ev.GetRepo().GetFullName(), pr.GetUser(), pr.GetHead().GetRef(), pr.GetBody())
	if !ok {
		return ignore(ctx, "not a tend pull request")
	}
	ctx, _ = repoContext(ctx, ev.GetInstallation().GetID(), ev.GetRepo().GetFullName())
	return h.enqueue(ctx, eventType, deliveryID, []keys.Key{k})
}
