package handlers

import (
	"context"
	"slices"
	"strings"

	"github.com/google/go-github/v89/github"
	"github.com/palantir/go-githubapp/githubapp"

	"github.com/tend-app/tend/config"
	"github.com/tend-app/tend/keys"
)

// Issues maps issues carrying a rule's label to that rule's issue key: the
// issue is a request, and the key's run answers it (or, once the issue is
// closed or unlabelled, closes what it opened).
type Issues struct{ Deps }

func (h *Issues) Handles() []string { return []string{"issues"} }

func (h *Issues) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var ev github.IssuesEvent
	if err := decode(eventType, deliveryID, payload, &ev); err != nil {
		return err
	}
	owner, name, ok := splitFullName(ev.GetRepo().GetFullName())
	if !ok || ev.GetIssue().GetNumber() <= 0 {
		return ignore(ctx, "payload names no repository or issue")
	}
	installationID := githubapp.GetInstallationIDFromEvent(&ev)
	if installationID == 0 {
		return ignore(ctx, "payload names no installation")
	}
	ctx, _ = repoContext(ctx, installationID, ev.GetRepo().GetFullName())
	if s := ev.GetSender(); s != nil && h.Identity.IsBot(s.GetLogin(), s.GetType()) {
		return ignore(ctx, "sent by tend")
	}
	if ev.GetIssue().IsPullRequest() {
		return ignore(ctx, "pull request")
	}
	action := ev.GetAction()
	switch action {
	case "opened", "edited", "reopened", "labeled", "closed", "unlabeled", "deleted", "transferred":
	default:
		return ignore(ctx, "issue "+action)
	}
	loaded, err := h.loadConfig(ctx, installationID, owner, name)
	if err != nil {
		return err
	}
	if !loaded.Managed() {
		return ignore(ctx, "repository has no valid .github/tend.yaml")
	}
	labels := issueLabels(ev.GetIssue())
	ks := IssueKeys(owner, name, loaded.Config, ev.GetIssue().GetNumber(), labels, action, ev.GetLabel().GetName())
	return h.enqueue(ctx, eventType, deliveryID, ks)
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

func issueLabels(is *github.Issue) []string {
	out := make([]string, 0, len(is.Labels))
	for _, l := range is.Labels {
		out = append(out, l.GetName())
	}
	return out
}
