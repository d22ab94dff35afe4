package handlers

import (
	"context"

	"github.com/google/go-github/v89/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/tend-app/tend/keys"
)

// IssueComment maps a /reconcile command on a bot PR or on a managed issue
// to the key it belongs to. Who may command and what the command does are
// decided by the key's run, which reads the comment again; here the comment
// only says "look at this key now".
type IssueComment struct{ Deps }

func (h *IssueComment) Handles() []string { return []string{"issue_comment"} }

func (h *IssueComment) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var ev github.IssueCommentEvent
	if err := decode(eventType, deliveryID, payload, &ev); err != nil {
		return err
	}
	if ev.GetAction() != "created" {
		return ignore(ctx, "comment "+ev.GetAction())
	}
	owner, name, ok := splitFullName(ev.GetRepo().GetFullName())
	if !ok {
		return ignore(ctx, "payload names no repository")
	}
	installationID := githubapp.GetInstallationIDFromEvent(&ev)
	if installationID == 0 {
		return ignore(ctx, "payload names no installation")
	}
	ctx, log := repoContext(ctx, installationID, ev.GetRepo().GetFullName())
	if u := ev.GetComment().GetUser(); u != nil && h.Identity.IsBot(u.GetLogin(), u.GetType()) {
		return ignore(ctx, "comment by tend")
	}
	cmd, ok := ParseCommand(ev.GetComment().GetBody())
	if !ok {
		return ignore(ctx, "not a command")
	}
	issue := ev.GetIssue()
	*log = log.With().Int("issue", issue.GetNumber()).Str("command", cmd.Kind.String()).Logger()
	ctx = log.WithContext(ctx)

	if issue.IsPullRequest() {
		k, ok := h.botPRKey(ev.GetRepo().GetFullName(), issue.GetUser(), "", issue.GetBody())
		if !ok {
			return ignore(ctx, "not a tend pull request")
		}
		return h.enqueue(ctx, eventType, deliveryID, []keys.Key{k})
	}
	loaded, err := h.loadConfig(ctx, installationID, owner, name)
	if err != nil {
		return err
	}
	if !loaded.Managed() {
		return ignore(ctx, "repository has no valid .github/tend.yaml")
	}
	ks := IssueKeys(owner, name, loaded.Config, issue.GetNumber(), issueLabels(issue), "commented", "")
	if len(ks) == 0 {
		zerolog.Ctx(ctx).Debug().Msg("command on an issue no rule handles")
		return ignore(ctx, "issue carries no rule's label")
	}
	return h.enqueue(ctx, eventType, deliveryID, ks)
}
