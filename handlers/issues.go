package handlers

import (
	"context"
	"slices"
	"strings"

	"github.com/tend-app/tend/internal/config"
	"github.com/tend-app/tend/internal/keys"
)

// Issues maps issues carrying a rule's label to that rule's issue key: the
// issue is a request, and the key's run answers it (or, once the issue is
// closed or unlabelled, closes what it opened).
type Issues struct{ Deps }

func (h *Issues) Handles() []string { return []string{"issues"} }

func (h *Issues) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var ev issuesPayload
	if err := decode(eventType, deliveryID, payload, &ev); err != nil {
		return err
	}
	owner, name, ok := splitFullName(ev.Repository.FullName)
	if !ok || ev.Issue.Number <= 0 {
		return ignore(ctx, "payload names no repository or issue")
	}
	installationID := ev.Installation.ID
	if installationID == 0 {
		return ignore(ctx, "payload names no installation")
	}
	ctx, _ = repoContext(ctx, installationID, ev.Repository.FullName)
	if h.Identity.IsBot(ev.Sender.Login, ev.Sender.Type) {
		return ignore(ctx, "sent by tend")
	}
	if ev.Issue.isPullRequest() {
		return ignore(ctx, "pull request")
	}
	action := ev.Action
	switch action {
	case "opened", "edited", "reopened", "labeled", "closed", "unlabeled", "deleted", "transferred":
	default:
		return ignore(ctx, "issue "+action)
	}
	loaded, err := h.loadConfig(ctx, installationID, owner, name)
	if err != nil {
		return h.unmapped(ctx, eventType, deliveryID, owner, name, err)
	}
	if !loaded.Managed() {
		return ignore(ctx, "repository has no valid .github/tend.yaml")
	}
	ks := IssueKeys(owner, name, loaded.Config, ev.Issue.Number, ev.Issue.labelNames(), action, ev.Label.Name)
	return h.enqueue(ctx, eventType, deliveryID, "issues:"+action, ks)
}

// IssueKeys returns the issue keys of the rules an issue event concerns:
// rules whose label the issue carries, and on "unlabeled" the rule whose
// label was just removed.
func IssueKeys(owner, repo string, cfg *config.Config, number int, labels []string, action, changedLabel string) []keys.Key {
	var out []keys.Key
	for _, r := range cfg.Rules {
		if r.On.IssueLabel == "" {
			continue
		}
		carries := slices.ContainsFunc(labels, func(l string) bool { return strings.EqualFold(l, r.On.IssueLabel) })
		if action == "unlabeled" {
			carries = strings.EqualFold(changedLabel, r.On.IssueLabel)
		}
		if action == "labeled" && !strings.EqualFold(changedLabel, r.On.IssueLabel) {
			// Another label was added: not news for this rule.
			continue
		}
		if carries {
			if k, err := keys.ForIssue(owner, repo, r.Name, number); err == nil {
				out = append(out, k)
			}
		}
	}
	return out
}
