package changes

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-github/v89/github"
	"github.com/rs/zerolog"

	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/keys"
)

// Declines stores what people declined per key, as botpr.Decline's stored
// form (the store implements it). Without it, only the key's newest PR
// says what was declined.
type Declines interface {
	Decline(ctx context.Context, key string) (string, error)
	SetDecline(ctx context.Context, repo, key, decline string) error
	ClearDecline(ctx context.Context, key string) error
}

// Prior is what a run learns of a key's pull requests before it computes
// the key's change: the newest PR tend opened for it (nil when none), that
// PR's state block, and what people declined. Reconcilers that leave
// declined parts out of their change read it first and hand it to Apply
// in Change.Prior, which saves Apply from asking GitHub again.
type Prior struct {
	PR      *github.PullRequest
	State   botpr.State
	Decline botpr.Decline
	key     string
}

// Reconsidered reports whether people asked, after the key's newest PR
// was declined, for its change anyway: the run proposes it again, and
// reopens that PR when it can.
func (p *Prior) Reconsidered() bool {
	return p.PR != nil && p.PR.GetState() == "closed" && p.PR.MergedAt == nil && p.State.Reconsidered
}

// declinedBy reports whether pr was closed unmerged by a person (tend marks
// the PRs it closes itself as resolved).
func declinedBy(pr *github.PullRequest, st botpr.State) bool {
	return pr != nil && pr.GetState() == "closed" && pr.MergedAt == nil && !st.Resolved
}

// Prior reads the key's newest PR and what people declined. A PR a person
// has just closed unmerged is recorded as declined — in the database and on
// the PR, with one comment saying what was declined, what brings a new PR
// and how to ask for it anyway. reconsider says that people asked for the
// key's change anyway (a writer's command on the declined PR or the
// request, the Recreate button): the decline is withdrawn. A declined PR a
// person reopened withdraws it too. Running it again changes nothing.
func (m *Manager) Prior(ctx context.Context, client *github.Client, owner, repo string, k keys.Key, reconsider bool) (*Prior, error) {
	return m.PriorOf(ctx, client, k, false, nil, reconsider)
}

// PriorOf is Prior for a run that may have read the key's newest PR
// already (read; pr, nil when it has none), as the run's comment commands
// do just before the reconciler: it is not listed again.
func (m *Manager) PriorOf(ctx context.Context, client *github.Client, k keys.Key, read bool, pr *github.PullRequest, reconsider bool) (*Prior, error) {
	owner, repo := k.Owner, k.Repo
	var err error
	if !read {
		if pr, _, err = m.findPR(ctx, client, owner, repo, botpr.BranchName(k)); err != nil {
			return nil, err
		}
	}
	st, _ := botpr.ParseState(pr.GetBody())
	p := &Prior{PR: pr, State: st, key: k.String()}
	if m.Declines != nil {
		stored, err := m.Declines.Decline(ctx, k.String())
		if err != nil {
			return nil, err
		}
		if p.Decline, err = botpr.ParseDecline(stored); err != nil {
			// A row tend cannot read is worth less than the PRs, which
			// say the same: start again from them.
			zerolog.Ctx(ctx).Warn().Err(err).Msg("unreadable decline record; rebuilding it from the PR")
		}
	}
	switch {
	case declinedBy(pr, st):
		err = m.noteDecline(ctx, client, owner, repo, p, reconsider)
	case pr != nil && pr.GetState() == "open" && (st.Declined || p.Decline.Has(pr.GetNumber())):
		err = m.reopenedByPerson(ctx, client, owner, repo, p)
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// reopenedByPerson withdraws the decline of a declined PR a person
// reopened: they want it after all, and its change must not be left out
// of it (which would close it as resolved).
func (m *Manager) reopenedByPerson(ctx context.Context, client *github.Client, owner, repo string, p *Prior) error {
	if err := m.clearDecline(ctx, p); err != nil {
		return err
	}
	p.State.Declined, p.State.Reconsidered = false, false
	zerolog.Ctx(ctx).Info().Int("pr", p.PR.GetNumber()).Msg("a person reopened a declined PR; decline withdrawn")
	return m.editState(ctx, client, owner, repo, p.PR, p.State)
}

// proposalOf is what a PR proposed; a PR from before proposals existed
// stands for its desired-state hash.
func proposalOf(st botpr.State) botpr.Proposal {
	if st.Proposal != nil && !st.Proposal.Empty() {
		return *st.Proposal
	}
	return botpr.Proposal{Hash: st.Hash}
}

// noteDecline records the decline of p.PR (closed unmerged by a person)
// once, restores it when the database lost it, and withdraws it when
// people asked for the change anyway.
func (m *Manager) noteDecline(ctx context.Context, client *github.Client, owner, repo string, p *Prior, reconsider bool) error {
	pr, n := p.PR, p.PR.GetNumber()
	if p.State.Reconsidered {
		if p.Decline.Has(n) {
			return m.clearDecline(ctx, p)
		}
		return nil
	}
	if !p.Decline.Has(n) {
		// Newly declined, or the database lost it (a new database, a
		// restore): the PR's state block is the source of truth.
		p.Decline.Add(proposalOf(p.State), n)
		if err := m.saveDecline(ctx, owner, repo, p); err != nil {
			return err
		}
	}
	if !p.State.Declined {
		if err := m.sayDeclined(ctx, client, owner, repo, pr, p.State); err != nil {
			return err
		}
		p.State.Declined = true
		if err := m.editState(ctx, client, owner, repo, pr, p.State); err != nil {
			return err
		}
		zerolog.Ctx(ctx).Info().Int("pr", n).Msg("a person declined the PR; recorded")
	}
	if !reconsider {
		return nil
	}
	p.State.Reconsidered = true
	if err := m.editState(ctx, client, owner, repo, pr, p.State); err != nil {
		return err
	}
	zerolog.Ctx(ctx).Info().Int("pr", n).Msg("decline withdrawn: people asked for the change anyway")
	return m.clearDecline(ctx, p)
}

func (m *Manager) saveDecline(ctx context.Context, owner, repo string, p *Prior) error {
	if m.Declines == nil {
		return nil
	}
	return m.Declines.SetDecline(ctx, strings.ToLower(owner+"/"+repo), p.key, p.Decline.Marshal())
}

func (m *Manager) clearDecline(ctx context.Context, p *Prior) error {
	p.Decline = botpr.Decline{}
	if m.Declines == nil {
		return nil
	}
	return m.Declines.ClearDecline(ctx, p.key)
}

// editState rewrites the state block of a PR's body.
func (m *Manager) editState(ctx context.Context, client *github.Client, owner, repo string, pr *github.PullRequest, st botpr.State) error {
	body := botpr.ReplaceState(pr.GetBody(), st)
	if _, _, err := client.PullRequests.Edit(ctx, owner, repo, pr.GetNumber(), &github.PullRequest{Body: github.Ptr(body)}); err != nil {
		return fmt.Errorf("update PR #%d: %w", pr.GetNumber(), err)
	}
	pr.Body = github.Ptr(body)
	return nil
}

// declinedMarker identifies tend's comment on a declined PR, for the close
// it answers, so that a run interrupted between commenting and marking the
// state block does not comment twice, and a PR closed again (after a
// /reconcile reopened it) gets its own comment.
const declinedMarker = "<!-- tend:declined"

func declinedMark(pr *github.PullRequest) string {
	return declinedMarker + " " + pr.GetClosedAt().UTC().Format(time.RFC3339) + " -->"
}

// sayDeclined comments on a declined PR, unless tend already did for this
// close.
func (m *Manager) sayDeclined(ctx context.Context, client *github.Client, owner, repo string, pr *github.PullRequest, st botpr.State) error {
	comments, err := m.comments(ctx, client, owner, repo, pr)
	if err != nil {
		return err
	}
	mark := declinedMark(pr)
	for _, c := range comments {
		if m.Identity.IsBot(c.GetUser().GetLogin(), c.GetUser().GetType()) && strings.Contains(c.GetBody(), mark) {
			return nil
		}
	}
	msg := declinedMessage(proposalOf(st)) + "\n" + mark
	if _, _, err := client.Issues.CreateComment(ctx, owner, repo, pr.GetNumber(), &github.IssueComment{Body: github.Ptr(msg)}); err != nil {
		return fmt.Errorf("comment on PR #%d: %w", pr.GetNumber(), err)
	}
	return nil
}

// maxCommentPages bounds the comments read on one closed PR.
const maxCommentPages = 5

// comments lists the comments made on pr since it closed.
func (m *Manager) comments(ctx context.Context, client *github.Client, owner, repo string, pr *github.PullRequest) ([]*github.IssueComment, error) {
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	if t := pr.GetClosedAt(); !t.IsZero() {
		opts.Since = &t.Time
	}
	var out []*github.IssueComment
	for page := 0; page < maxCommentPages; page++ {
		cs, resp, err := client.Issues.ListComments(ctx, owner, repo, pr.GetNumber(), opts)
		if err != nil {
			return nil, fmt.Errorf("list comments of PR #%d: %w", pr.GetNumber(), err)
		}
		out = append(out, cs...)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return out, nil
}

// maxShownRewrites bounds the rewrites listed in the decline comment.
const maxShownRewrites = 30

// declinedMessage says what was declined, what brings a new PR, and how to
// ask for it anyway.
func declinedMessage(p botpr.Proposal) string {
	var b strings.Builder
	b.WriteString("This pull request was closed without being merged, so tend takes it as declined and will not propose it again.\n\n")
	switch {
	case len(p.Rewrites) > 0:
		b.WriteString("Declined:\n\n")
		for i, r := range p.Rewrites {
			if i == maxShownRewrites {
				fmt.Fprintf(&b, "- … and %d more\n", len(p.Rewrites)-i)
				break
			}
			fmt.Fprintf(&b, "- `%s`\n", strings.ReplaceAll(r, "`", "'"))
		}
		b.WriteString("\ntend opens a new pull request only for a rewrite that differs from these: a tag that moves to a new digest, a newer tag, " +
			"or a reference not listed here — and then proposes only that. Other edits to the file do not bring these back.\n\n")
	case p.Inputs != "" || len(p.Reads) > 0:
		fmt.Fprintf(&b, "tend proposes a change for this key again only when the rule's prompt, the request (the issue), "+
			"or the content of one of the %d file(s) the agent read changes.\n\n", len(p.Reads))
	default:
		b.WriteString("tend proposes a change for this key again only when the change it would propose differs from this one.\n\n")
	}
	b.WriteString("To have it proposed anyway, comment `/reconcile` on this pull request (people with write access): tend withdraws the decline and reopens or recreates it. Reopening it yourself withdraws the decline too.")
	return b.String()
}
