package commands

import (
	"context"
	"fmt"
	"net/http"

	"github.com/google/go-github/v89/github"
	"github.com/rs/zerolog"

	"github.com/tend-app/tend/internal/clip"
	"github.com/tend-app/tend/internal/command"
	"github.com/tend-app/tend/internal/keys"
)

// Batch is what the commands newly picked up by one run ask for.
type Batch struct {
	// Accepted counts the commands taken up (from people who may command).
	Accepted int
	// Fresh: a run that must leave a fresh check run. Recreate: regenerate
	// from the base branch.
	Fresh, Recreate bool
	// Skip and Resume set or clear the skip label; the later command wins.
	Skip, Resume bool
	// Instructions are the new free-text instructions.
	Instructions []string
	// Replies counts the answers posted (help, denials, deterministic rules).
	Replies int
}

// Options tune Pickup for the key's rule.
type Options struct {
	// Deterministic: the rule has no agent, so instructions are answered
	// with a reply instead of being remembered.
	Deterministic bool
	// Comment: a comment started the run, so its PR's comments are read
	// even when the PR looks unchanged since tend opened it.
	Comment bool
}

// Pickup reads the comments newer than the ledger's marks, answers help
// and commands from people who may not command (once per person), reacts
// with eyes to the commands it takes up, and saves the ledger — with their
// work pending — before the run acts on them.
func (p *Pipeline) Pickup(ctx context.Context, t *Target, o Options) (Batch, error) {
	var b Batch
	var ack []int64
	streams := t.streams()
	perms := map[string]bool{}
	changed := false
	for _, s := range streams {
		if *s.list == nil && s.pr && !o.Comment && p.Quiet != nil && !p.Quiet.CommentsUnread(t.Key.Owner, t.Key.Repo, t.PR) {
			continue
		}
		if *s.list == nil {
			cs, err := p.listComments(ctx, t.Client, t.Key, s.number)
			if err != nil {
				return b, err
			}
			*s.list = cs
		}
		for _, c := range *s.list {
			if c.GetID() <= *s.seen {
				continue
			}
			*s.seen, changed = c.GetID(), true
			cmd, ok := p.command(c)
			if !ok {
				continue
			}
			accepted, err := p.handle(ctx, t, s.number, c, cmd, perms, o, &b)
			if err != nil {
				return b, err
			}
			if accepted {
				ack = append(ack, c.GetID())
			}
		}
	}
	if !changed {
		return b, nil
	}
	t.Ledger.AddInstructions(b.Instructions...)
	if len(b.Instructions) > 0 && t.PR != nil {
		t.Ledger.PR = t.PR.GetNumber()
	}
	t.Ledger.Want(b.Fresh, b.Recreate, ack...)
	return b, p.Save(ctx, t)
}

// stream is one comment thread of a key and how far it was read.
type stream struct {
	number int
	pr     bool // the PR's comments (else the request issue's)
	seen   *int64
	list   *[]*github.IssueComment
}

func (t *Target) streams() []stream {
	var out []stream
	if t.PR != nil {
		out = append(out, stream{t.PR.GetNumber(), true, &t.Ledger.Seen, &t.prComments})
	}
	if t.Issue != nil {
		out = append(out, stream{t.Key.Issue, false, &t.Ledger.SeenIssue, &t.issueComments})
	}
	return out
}

// command parses a comment that may carry a command: not tend's or any
// bot's, not edited since it was written.
func (p *Pipeline) command(c *github.IssueComment) (command.Command, bool) {
	u := c.GetUser()
	if u.GetType() == "Bot" || p.Identity.IsBot(u.GetLogin(), u.GetType()) || u.GetLogin() == "" {
		return command.Command{}, false
	}
	if c.UpdatedAt != nil && c.CreatedAt != nil && c.UpdatedAt.After(c.CreatedAt.Time) {
		return command.Command{}, false
	}
	return command.Parse(c.GetBody())
}

// handle applies one command to the batch; it reports whether the command
// was taken up.
func (p *Pipeline) handle(ctx context.Context, t *Target, number int, c *github.IssueComment, cmd command.Command, perms map[string]bool, o Options, b *Batch) (bool, error) {
	login := c.GetUser().GetLogin()
	log := zerolog.Ctx(ctx).With().Int64("comment", c.GetID()).Str("by", login).Str("command", cmd.Kind.String()).Logger()
	may, err := p.mayCommand(ctx, t, login, perms)
	if err != nil {
		return false, err
	}
	if !may {
		log.Info().Msg("command from someone without write access; ignored")
		if t.Ledger.Deny(login) {
			b.Replies++
			return false, p.reply(ctx, t, number, command.DeniedText(login))
		}
		return false, nil
	}
	if cmd.Kind == command.Help {
		b.Replies++
		return false, p.reply(ctx, t, number, command.HelpText)
	}
	log.Info().Msg("command accepted")
	if err := p.react(ctx, t, c.GetID(), "eyes"); err != nil {
		return false, err
	}
	b.Accepted++
	switch cmd.Kind {
	case command.Skip:
		b.Skip, b.Resume = true, false
		return true, nil
	case command.Instruct:
		if o.Deterministic {
			b.Replies++
			if err := p.reply(ctx, t, number, command.DeterministicText); err != nil {
				return false, err
			}
		} else {
			b.Instructions = append(b.Instructions, cmd.Text)
		}
	case command.Recreate:
		b.Recreate = true
	}
	b.Fresh, b.Skip, b.Resume = true, false, true
	return true, nil
}

// mayCommand asks GitHub whether login may command (WriteAccess),
// once per login and run.
func (p *Pipeline) mayCommand(ctx context.Context, t *Target, login string, cache map[string]bool) (bool, error) {
	if ok, seen := cache[login]; seen {
		return ok, nil
	}
	ok, err := WriteAccess(ctx, t.Client, t.Key.Owner, t.Key.Repo, login)
	if err != nil {
		return false, err
	}
	cache[login] = ok
	return ok, nil
}

// WriteAccess asks GitHub for login's permission on owner/repo: write,
// maintain and admin may steer tend — with commands, and with reviews of
// its PRs (role_name tells maintain and custom roles apart; permission is
// their base level). A user GitHub does not know has no access.
func WriteAccess(ctx context.Context, client *github.Client, owner, repo, login string) (bool, error) {
	perm, _, err := client.Repositories.GetPermissionLevel(ctx, owner, repo, login)
	if err != nil && !isStatus(err, http.StatusNotFound) {
		return false, fmt.Errorf("read the permission of %s: %w", login, err)
	}
	ok := false
	if err == nil {
		switch perm.GetPermission() {
		case "admin", "write":
			ok = true
		}
		switch perm.GetRoleName() {
		case "admin", "maintain", "write":
			ok = true
		}
	}
	return ok, nil
}

func (p *Pipeline) reply(ctx context.Context, t *Target, number int, body string) error {
	if _, _, err := t.Client.Issues.CreateComment(ctx, t.Key.Owner, t.Key.Repo, number, &github.IssueComment{Body: github.Ptr(body)}); err != nil {
		return fmt.Errorf("reply on #%d: %w", number, err)
	}
	return nil
}

func (p *Pipeline) react(ctx context.Context, t *Target, comment int64, content string) error {
	_, _, err := t.Client.Reactions.CreateIssueCommentReaction(ctx, t.Key.Owner, t.Key.Repo, comment, content)
	if err != nil && !isStatus(err, http.StatusNotFound) {
		// A comment deleted meanwhile has nothing to react to.
		return fmt.Errorf("react %s to comment %d: %w", content, comment, err)
	}
	return nil
}

// Finish acknowledges the pending commands once the run is over: +1 when
// it did what they asked, confused (and a reply with the reason) when it
// failed for good. A run that will be retried leaves them pending.
func (p *Pipeline) Finish(ctx context.Context, t *Target, failure error, final bool) error {
	pend := t.Ledger.Pending
	if pend == nil || (failure != nil && !final) {
		return nil
	}
	content := "+1"
	if failure != nil {
		content = "confused"
	}
	for _, id := range pend.Ack {
		if err := p.react(ctx, t, id, content); err != nil {
			return err
		}
	}
	if failure != nil && len(pend.Ack) > 0 {
		number := t.labelNumber()
		if number != 0 {
			msg := "tend could not carry out the command: " + clip.Text(failure.Error(), 500, "…")
			if err := p.reply(ctx, t, number, msg); err != nil {
				return err
			}
		}
	}
	t.Ledger.Pending = nil
	return p.refreshAndSave(ctx, t)
}

// refreshAndSave saves the ledger after a run that may have rewritten the
// PR body: it reads the PR again and keeps everything but the ledger.
func (p *Pipeline) refreshAndSave(ctx context.Context, t *Target) error {
	if t.Key.Kind() == keys.KindIssue {
		if t.Issue == nil {
			return nil
		}
		// The run may have rewritten the status comment's text.
		comments, err := p.listComments(ctx, t.Client, t.Key, t.Key.Issue)
		if err != nil {
			return err
		}
		t.status, _, _ = p.findStatus(comments, t.Key)
		return p.Save(ctx, t)
	}
	if t.PR == nil {
		return nil
	}
	pr, st, err := p.PRs.PR(ctx, t.Client, t.Key.Owner, t.Key.Repo, t.Key)
	if err != nil {
		return err
	}
	if pr == nil || pr.GetNumber() != t.PR.GetNumber() {
		return nil // a new PR: its comments are a new stream
	}
	t.PR, t.State = pr, st
	return p.Save(ctx, t)
}
