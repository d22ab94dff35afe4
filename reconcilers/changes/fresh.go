package changes

import (
	"context"
	"fmt"

	"github.com/google/go-github/v89/github"

	"github.com/tend-app/tend/internal/botpr"
)

// upToDate ends a run whose PR already proposes the desired state; when
// people asked for a fresh check run (a command, Re-run, a button), it
// reports again on the PR head.
func (m *Manager) upToDate(ctx context.Context, client *github.Client, owner, repo string, out Outcome, c *Change, diff []FileChange) (Outcome, error) {
	out.Action = "up-to-date"
	if !c.Fresh {
		return out, nil
	}
	if err := m.report(ctx, client, owner, repo, out.Head, c, diff); err != nil {
		return Outcome{}, err
	}
	return out, nil
}

// reportHandsOff answers a fresh-check request on a PR people pushed to:
// tend does not touch it, and says how to hand it back.
func (m *Manager) reportHandsOff(ctx context.Context, client *github.Client, owner, repo string, pr *github.PullRequest, st botpr.State, c *Change) error {
	return PostCheck(ctx, client, owner, repo, Check{
		Name: CheckName(c.Rule), HeadSHA: pr.GetHead().GetSHA(), ExternalID: c.Key.String(), Conclusion: "neutral",
		Title: "People pushed to this branch; tend leaves it alone",
		Summary: fmt.Sprintf("Someone other than tend pushed to `%s`, so tend does not update this pull request. "+
			"Comment `/reconcile recreate` (or use the Recreate button) to regenerate it from the base branch, discarding those commits, "+
			"or reset the branch to tend's last commit %s.", pr.GetHead().GetRef(), short(st.Head)),
		Reconcilable: true,
	})
}
