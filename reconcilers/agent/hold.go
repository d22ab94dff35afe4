package agent

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v89/github"

	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/clip"
	"github.com/tend-app/tend/reconcilers"
	"github.com/tend-app/tend/reconcilers/changes"
)

// holdForHuman hands a PR whose CI rounds are spent to people: it labels
// it tend/needs-human, says once what was tried, reports it in the check
// run, and records the hold, which lasts until a person removes the label
// or the desired state changes.
func (r *Reconciler) holdForHuman(ctx context.Context, rn *run, fb *feedback) (reconcilers.Result, error) {
	client, k, pr := rn.req.Client, rn.k, rn.pr
	n := fb.next
	if _, _, err := client.Issues.AddLabelsToIssue(ctx, k.Owner, k.Repo, pr.GetNumber(), []string{botpr.NeedsHumanLabel}); err != nil {
		return reconcilers.Result{}, fmt.Errorf("label PR #%d: %w", pr.GetNumber(), err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Checks still fail on this pull request after %d round(s) of CI feedback to tend's agent (`ci_rounds: %d` for rule `%s`), so tend has stopped changing it and labelled it `%s`.\n\n",
		n.Rounds, fb.maxRounds, k.Rule, botpr.NeedsHumanLabel)
	if len(n.Tried) > 0 {
		b.WriteString("What tend tried:\n")
		for _, t := range n.Tried {
			b.WriteString("- " + t + "\n")
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "Failing now on %s: %s.\n\n", shortSHA(rn.st.Head), clip.Text(fb.ci.Names(), 1000, "…"))
	fmt.Fprintf(&b, "tend picks it up again when someone comments `/reconcile`, the desired state changes, or the `%s` label is removed.", botpr.NeedsHumanLabel)
	if _, _, err := client.Issues.CreateComment(ctx, k.Owner, k.Repo, pr.GetNumber(), &github.IssueComment{Body: github.Ptr(b.String())}); err != nil {
		return reconcilers.Result{}, fmt.Errorf("comment on PR #%d: %w", pr.GetNumber(), err)
	}
	n.NeedsHuman, n.HoldInputs = true, rn.inputs
	if err := changes.PostCheck(ctx, client, k.Owner, k.Repo, changes.Check{
		Name: changes.CheckName(rn.req.Rule.Name), HeadSHA: rn.st.Head, ExternalID: k.String(), Conclusion: "failure",
		Title:   fmt.Sprintf("Needs a person: checks still fail after %d CI feedback round(s)", n.Rounds),
		Summary: b.String() + fmt.Sprintf("\n\nCI feedback rounds used on this pull request: %d of %d.", n.Rounds, fb.maxRounds), Reconcilable: true,
	}); err != nil {
		return reconcilers.Result{}, err
	}
	saved := n.Clone()
	if len(fb.reviews) > 0 {
		// The reviews are used by the round that follows; until it
		// succeeds, they stay unread.
		saved.ReviewSeen, saved.CommentSeen = 0, 0
		if old := rn.st.Feedback; old != nil {
			saved.ReviewSeen, saved.CommentSeen = old.ReviewSeen, old.CommentSeen
		}
	}
	if _, err := r.Changes.SaveFeedback(ctx, client, k.Owner, k.Repo, k, saved); err != nil {
		return reconcilers.Result{}, err
	}
	r.Metrics.record("needs-human", nil)
	return reconcilers.Result{Outcome: "needs-human"}, nil
}

// removeHoldLabel takes tend/needs-human off a PR whose hold a command or
// a new desired state lifted.
func (r *Reconciler) removeHoldLabel(ctx context.Context, rn *run) error {
	resp, err := rn.req.Client.Issues.RemoveLabelForIssue(ctx, rn.k.Owner, rn.k.Repo, rn.pr.GetNumber(), botpr.NeedsHumanLabel)
	if err != nil && (resp == nil || resp.StatusCode != http.StatusNotFound) {
		return fmt.Errorf("unlabel PR #%d: %w", rn.pr.GetNumber(), err)
	}
	return nil
}
