package handlers

import (
	"context"
	"strings"

	"github.com/tend-app/tend/internal/botpr"

	"github.com/tend-app/tend/internal/command"
	"github.com/tend-app/tend/internal/keys"
)

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
	switch ev.Action {
	case "closed", "reopened", "edited", "synchronize":
	case "labeled", "unlabeled":
		switch {
		case strings.EqualFold(ev.Label.Name, command.SkipLabel):
			// Removing the skip label hands the PR back to tend.
		case ev.Action == "unlabeled" && strings.EqualFold(ev.Label.Name, botpr.NeedsHumanLabel):
			// Taking tend/needs-human off gives the agent its rounds back.
		default:
			return ignore(ctx, "pull request "+ev.Action)
		}
	default:
		return ignore(ctx, "pull request "+ev.Action)
	}
	if h.Identity.IsBot(ev.Sender.Login, ev.Sender.Type) {
		return ignore(ctx, "sent by tend")
	}
	pr := ev.PullRequest
	k, ok := h.botPRKey(ev.Repository.FullName, pr.User, pr.Head.Ref, pr.Body)
	if !ok {
		return ignore(ctx, "not a tend pull request")
	}
	ctx, _ = repoContext(ctx, ev.Installation.ID, ev.Repository.FullName)
	return h.enqueue(ctx, eventType, deliveryID, "pull_request:"+ev.Action, []keys.Key{k})
}
