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
	if h.Identity.IsBot(ev.Sender.Login, ev.Sender.Type) {
		return ignore(ctx, "sent by tend")
	}
	var ks []keys.Key
	if k, ok := configCheckKey(ev); ok {
		ks = append(ks, k)
	}
	if concernsBotPR(ev) {
		pr := ev.PullRequest
		if k, ok := h.botPRKey(ev.Repository.FullName, pr.User, pr.Head.Ref, pr.Body); ok {
			ks = append(ks, k)
		}
	}
	if len(ks) == 0 {
		return ignore(ctx, "pull request "+ev.Action+": nothing for tend")
	}
	ctx, _ = repoContext(ctx, ev.Installation.ID, ev.Repository.FullName)
	return h.enqueue(ctx, eventType, deliveryID, "pull_request:"+ev.Action, ks)
}

// concernsBotPR reports whether the event is one a tend PR reacts to.
func concernsBotPR(ev pullRequestPayload) bool {
	switch ev.Action {
	case "closed", "reopened", "edited", "synchronize":
		return true
	case "labeled", "unlabeled":
		// Removing the skip label hands the PR back to tend; taking
		// tend/needs-human off gives the agent its rounds back.
		return strings.EqualFold(ev.Label.Name, command.SkipLabel) ||
			(ev.Action == "unlabeled" && strings.EqualFold(ev.Label.Name, botpr.NeedsHumanLabel))
	}
	return false
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
