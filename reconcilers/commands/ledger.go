package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v89/github"

	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/keys"
)

// Save writes the ledger where the key keeps it: the state block of its
// open PR (path keys), or tend's status comment on the request issue.
func (p *Pipeline) Save(ctx context.Context, t *Target) error {
	k := t.Key
	var ledger *botpr.Commands
	if !t.Ledger.Empty() {
		l := t.Ledger
		ledger = &l
	}
	if k.Kind() == keys.KindIssue {
		if t.Issue == nil {
			return nil
		}
		text := defaultStatus
		if t.status != nil {
			text = statusText(t.status.GetBody())
		}
		c, err := writeStatus(ctx, t.Client, k, t.status, text, ledger)
		if err != nil {
			return err
		}
		t.status = c
		return nil
	}
	if t.PR == nil {
		return nil
	}
	st := t.State
	if st.Key == "" {
		st.Key = k.String()
	}
	st.Cmd = ledger
	body := botpr.ReplaceState(t.PR.GetBody(), st)
	if body == t.PR.GetBody() {
		return nil
	}
	if _, _, err := t.Client.PullRequests.Edit(ctx, k.Owner, k.Repo, t.PR.GetNumber(), &github.PullRequest{Body: github.Ptr(body)}); err != nil {
		return fmt.Errorf("record commands on PR #%d: %w", t.PR.GetNumber(), err)
	}
	t.PR.Body, t.State = github.Ptr(body), st
	return nil
}

const defaultStatus = "tend is working on this request."

// statusText is the human part of a status comment (before its state block).
func statusText(body string) string {
	if i := strings.LastIndex(body, "<!-- tend:state "); i >= 0 {
		body = body[:i]
	}
	if s := strings.TrimSpace(body); s != "" {
		return s
	}
	return defaultStatus
}

// writeStatus creates or edits tend's status comment on a request issue.
func writeStatus(ctx context.Context, client *github.Client, k keys.Key, existing *github.IssueComment, text string, ledger *botpr.Commands) (*github.IssueComment, error) {
	body := strings.TrimSpace(text) + "\n\n" + botpr.FormatState(botpr.State{Version: 1, Key: k.String(), Cmd: ledger}) + "\n"
	if existing != nil {
		if existing.GetBody() == body {
			return existing, nil
		}
		c, _, err := client.Issues.EditComment(ctx, k.Owner, k.Repo, existing.GetID(), &github.IssueComment{Body: github.Ptr(body)})
		if err != nil {
			return nil, fmt.Errorf("update the status comment on #%d: %w", k.Issue, err)
		}
		return c, nil
	}
	c, _, err := client.Issues.CreateComment(ctx, k.Owner, k.Repo, k.Issue, &github.IssueComment{Body: github.Ptr(body)})
	if err != nil {
		return nil, fmt.Errorf("comment on #%d: %w", k.Issue, err)
	}
	return c, nil
}

// SetIssueStatus keeps tend's one status comment on a request issue up to
// date with text (the PR, the last outcome), keeping the ledger it carries.
func (p *Pipeline) SetIssueStatus(ctx context.Context, client *github.Client, k keys.Key, text string) error {
	comments, err := p.listComments(ctx, client, k, k.Issue)
	if err != nil {
		return err
	}
	existing, st, _ := p.findStatus(comments, k)
	_, err = writeStatus(ctx, client, k, existing, text, st.Cmd)
	return err
}
