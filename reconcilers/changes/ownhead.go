package changes

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v89/github"

	"github.com/tend-app/tend/internal/botpr"
)

// ownHead reports whether a PR head that its state block does not name is
// nonetheless a commit tend wrote for this key: a branch move GitHub made
// although tend gave up waiting for its answer (or a run cut off between
// moving the branch and recording the move in the PR body). Such a head is
// tend's to replace; anything else is people's work and is left alone.
//
// tend's commits carry the key's trailer, are committed by tend's bot, and
// have one parent taken from the base branch — never the PR's previous head,
// which a push on top of tend's commit has. A commit has to copy all three
// to be taken for tend's; while the bot's login is unknown, no head is.
func (m *Manager) ownHead(ctx context.Context, client *github.Client, owner, repo string, pr *github.PullRequest, st botpr.State, c *Change) (bool, error) {
	bot := strings.ToLower(m.Identity.BotLogin())
	if bot == "" {
		return false, nil
	}
	head := pr.GetHead().GetSHA()
	commit, _, err := client.Git.GetCommit(ctx, owner, repo, head)
	if err != nil {
		return false, fmt.Errorf("read head %s of PR #%d: %w", short(head), pr.GetNumber(), err)
	}
	committer := commit.GetCommitter()
	local, _, _ := strings.Cut(strings.ToLower(committer.GetEmail()), "@")
	if !strings.EqualFold(committer.GetName(), bot) || !strings.HasSuffix(local, "+"+bot) {
		return false, nil
	}
	if len(commit.Parents) != 1 || commit.Parents[0].GetSHA() == st.Head {
		return false, nil
	}
	return hasKeyTrailer(commit.GetMessage(), c.Key.String()), nil
}

// hasKeyTrailer reports whether a commit message ends with tend's trailer
// for key (see commitMessage).
func hasKeyTrailer(msg, key string) bool {
	return strings.HasSuffix(strings.TrimRight(msg, "\n"), "\ntend-key: "+key)
}
