package handlers

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/tend-app/tend/internal/command"
	"github.com/tend-app/tend/internal/keys"
)

// IssueComment maps a /reconcile command on a bot PR or on a managed issue
// to the key it belongs to. Who may command and what the command does are
// decided by the key's run, which reads the comment again; here the comment
// only says "look at this key now".
type IssueComment struct{ Deps }

func (h *IssueComment) Handles() []string { return []string{"issue_comment"} }

func (h *IssueComment) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var ev issueCommentPayload
	if err := decode(eventType, deliveryID, payload, &ev); err != nil {
		return err
	}
	if ev.Action != "created" {
		return ignore(ctx, "comment "+ev.Action)
	}
	owner, name, ok := splitFullName(ev.Repository.FullName)
	if !ok {
		return ignore(ctx, "payload names no repository")
	}
	installationID := ev.Installation.ID
	if installationID == 0 {
		return ignore(ctx, "payload names no installation")
	}
	ctx, log := repoContext(ctx, installationID, ev.Repository.FullName)
	if h.Identity.IsBot(ev.Comment.User.Login, ev.Comment.User.Type) {
		return ignore(ctx, "comment by tend")
	}
	cmd, ok := command.Parse(ev.Comment.Body)
	if !ok {
		return ignore(ctx, "not a command")
	}
	issue := ev.Issue
	*log = log.With().Int("issue", issue.Number).Str("command", cmd.Kind.String()).Logger()
	ctx = log.WithContext(ctx)

	if issue.isPullRequest() {
		k, ok := h.botPRKey(ev.Repository.FullName, issue.User, "", issue.Body)
		if !ok {
			return ignore(ctx, "not a tend pull request")
		}
		return h.enqueue(ctx, eventType, deliveryID, "issue_comment:"+cmd.Kind.String(), []keys.Key{k})
	}
	loaded, err := h.loadConfig(ctx, installationID, owner, name)
	if err != nil {
		return h.unmapped(ctx, eventType, deliveryID, owner, name, err)
	}
	if !loaded.Managed() {
		return ignore(ctx, "repository has no valid .github/tend.yaml")
	}
	ks := IssueKeys(owner, name, loaded.Config, issue.Number, issue.labelNames(), "commented", "")
	if len(ks) == 0 {
		zerolog.Ctx(ctx).Debug().Msg("command on an issue no rule handles")
		return ignore(ctx, "issue carries no rule's label")
	}
	return h.enqueue(ctx, eventType, deliveryID, "issue_comment:"+cmd.Kind.String(), ks)
}
