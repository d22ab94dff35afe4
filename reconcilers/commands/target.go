package commands

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/google/go-github/v89/github"

	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/command"
	"github.com/tend-app/tend/internal/keys"
)

// PRFinder finds the newest PR tend opened for a key (the change manager
// implements it).
type PRFinder interface {
	PR(ctx context.Context, client *github.Client, owner, repo string, k keys.Key) (*github.PullRequest, botpr.State, error)
}

// QuietPRs tells whether tend may have to read a PR's comments (the
// change manager implements it): false when nothing changed the PR since
// tend opened it without comments.
type QuietPRs interface {
	CommentsUnread(owner, repo string, pr *github.PullRequest) bool
}

// Pipeline reads and acknowledges comment commands.
type Pipeline struct {
	Identity *botpr.Identity
	PRs      PRFinder
	// Quiet, when set, spares reading the comments of a PR nothing changed
	// since tend opened it; nil reads them on every run.
	Quiet QuietPRs
	// MaxComments bounds the comments read per stream and run (default 1000).
	MaxComments int
}

// Target is one key's comment streams and ledger, as a run loaded them.
type Target struct {
	Client *github.Client
	Key    keys.Key
	// PR is the key's open PR (nil when none) and State its state block.
	PR    *github.PullRequest
	State botpr.State
	// Newest is the key's newest PR in any state (nil when none) and
	// NewestState its state block, as Load found them: a closed one may be
	// a declined PR whose comments are read through TargetForPR.
	Newest      *github.PullRequest
	NewestState botpr.State
	// Issue is the request of an issue key (nil for path keys, and when
	// the issue was deleted).
	Issue *github.Issue
	// IssueGone is set when the request issue was deleted or transferred.
	IssueGone bool
	// Ledger is the key's command bookkeeping.
	Ledger botpr.Commands
	// status is tend's status comment on the request issue, if any.
	status *github.IssueComment
	// prComments and issueComments are the streams as read by Pickup.
	prComments, issueComments []*github.IssueComment
}

// Load reads the key's open PR, its request issue and tend's status
// comment there, and the ledger from where the key keeps it.
func (p *Pipeline) Load(ctx context.Context, client *github.Client, k keys.Key) (*Target, error) {
	t := &Target{Client: client, Key: k}
	pr, st, err := p.PRs.PR(ctx, client, k.Owner, k.Repo, k)
	if err != nil {
		return nil, err
	}
	t.Newest, t.NewestState = pr, st
	if pr != nil && pr.GetState() == "open" {
		t.PR, t.State = pr, st
	}
	if k.Kind() != keys.KindIssue {
		if t.PR != nil && st.Cmd != nil {
			t.Ledger = *st.Cmd
		}
		return t, nil
	}
	is, _, err := client.Issues.Get(ctx, k.Owner, k.Repo, k.Issue)
	switch {
	case isStatus(err, http.StatusNotFound) || isStatus(err, http.StatusGone) || isStatus(err, http.StatusMovedPermanently):
		t.IssueGone = true
		return t, nil
	case err != nil:
		return nil, fmt.Errorf("read issue #%d: %w", k.Issue, err)
	}
	t.Issue = is
	comments, err := p.listComments(ctx, client, k, k.Issue)
	if err != nil {
		return nil, err
	}
	t.issueComments = comments
	if c, st, ok := p.findStatus(comments, k); ok {
		t.status = c
		if st.Cmd != nil {
			t.Ledger = *st.Cmd
		}
	}
	switch {
	case t.Ledger.PR != 0 && (t.PR == nil || t.PR.GetNumber() != t.Ledger.PR):
		// The PR the instructions were given for is closed: they end with it.
		t.Ledger.Instructions, t.Ledger.PR = nil, 0
	case t.Ledger.PR == 0 && len(t.Ledger.Instructions) > 0 && t.PR != nil:
		// Instructions given before the PR existed belong to the PR now.
		t.Ledger.PR = t.PR.GetNumber()
	}
	return t, nil
}

// TargetForPR is the target of a path key's PR in any state (a closed PR
// included, which Load leaves out): its comments are read and its ledger
// kept in its state block.
func TargetForPR(client *github.Client, k keys.Key, pr *github.PullRequest, st botpr.State) *Target {
	t := &Target{Client: client, Key: k, PR: pr, State: st}
	if st.Cmd != nil {
		t.Ledger = *st.Cmd
	}
	return t
}

// findStatus finds tend's status comment on a request issue: a comment by
// tend's bot carrying a state block of this key.
func (p *Pipeline) findStatus(comments []*github.IssueComment, k keys.Key) (*github.IssueComment, botpr.State, bool) {
	for _, c := range comments {
		if !p.Identity.IsBot(c.GetUser().GetLogin(), c.GetUser().GetType()) {
			continue
		}
		if st, ok := botpr.ParseState(c.GetBody()); ok && st.Key == k.String() {
			return c, st, true
		}
	}
	return nil, botpr.State{}, false
}

// listComments lists an issue's or PR's comments, oldest first, bounded.
func (p *Pipeline) listComments(ctx context.Context, client *github.Client, k keys.Key, number int) ([]*github.IssueComment, error) {
	limit := p.MaxComments
	if limit <= 0 {
		limit = 1000
	}
	var all []*github.IssueComment
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for len(all) < limit {
		cs, resp, err := client.Issues.ListComments(ctx, k.Owner, k.Repo, number, opts)
		if err != nil {
			return nil, fmt.Errorf("list comments of #%d: %w", number, err)
		}
		all = append(all, cs...)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return all, nil
}

// Skipped reports whether people asked tend to keep its hands off the key:
// its PR (or, before there is one, its request issue) carries the skip
// label. A closed or deleted request is never skipped: closing it must
// still close its PR.
func (t *Target) Skipped() bool {
	if t.Key.Kind() == keys.KindIssue && (t.Issue == nil || t.Issue.GetState() != "open") {
		return false
	}
	return hasLabel(t.labelled())
}

// labelled returns the labels of what the skip label goes on.
func (t *Target) labelled() []*github.Label {
	if t.PR != nil {
		return t.PR.Labels
	}
	if t.Issue != nil {
		return t.Issue.Labels
	}
	return nil
}

// labelNumber is the issue or PR number the skip label goes on (0: none).
func (t *Target) labelNumber() int {
	if t.PR != nil {
		return t.PR.GetNumber()
	}
	if t.Issue != nil {
		return t.Key.Issue
	}
	return 0
}

func hasLabel(ls []*github.Label) bool {
	return slices.ContainsFunc(ls, func(l *github.Label) bool { return strings.EqualFold(l.GetName(), command.SkipLabel) })
}

// SetSkip adds or removes the skip label.
func (t *Target) SetSkip(ctx context.Context, skip bool) error {
	n := t.labelNumber()
	if n == 0 || skip == hasLabel(t.labelled()) {
		return nil
	}
	k := t.Key
	if skip {
		ls, _, err := t.Client.Issues.AddLabelsToIssue(ctx, k.Owner, k.Repo, n, []string{command.SkipLabel})
		if err != nil {
			return fmt.Errorf("label #%d %s: %w", n, command.SkipLabel, err)
		}
		t.setLabels(ls)
		return nil
	}
	if _, err := t.Client.Issues.RemoveLabelForIssue(ctx, k.Owner, k.Repo, n, command.SkipLabel); err != nil && !isStatus(err, http.StatusNotFound) {
		return fmt.Errorf("unlabel #%d %s: %w", n, command.SkipLabel, err)
	}
	t.setLabels(slices.DeleteFunc(slices.Clone(t.labelled()), func(l *github.Label) bool { return strings.EqualFold(l.GetName(), command.SkipLabel) }))
	return nil
}

func (t *Target) setLabels(ls []*github.Label) {
	if t.PR != nil {
		t.PR.Labels = ls
	} else if t.Issue != nil {
		t.Issue.Labels = ls
	}
}

func isStatus(err error, code int) bool {
	var er *github.ErrorResponse
	return errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == code
}
