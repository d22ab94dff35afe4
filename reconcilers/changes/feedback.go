package changes

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"github.com/google/go-github/v89/github"

	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/keys"
)

// keepFeedback puts the feedback record in a regenerated PR's state: the
// change's own, or the one the PR had.
func (c *Change) keepFeedback(st *botpr.State, prev botpr.State) {
	if c.Feedback == nil {
		c.Feedback = prev.Feedback.Clone()
	}
	st.Feedback = c.Feedback
}

// feedbackLine says, in the check run, how many CI feedback rounds the PR
// used: a green run does not hide them.
func (c *Change) feedbackLine() string { return FeedbackLine(c.Feedback, c.CIRounds) }

// FeedbackLine is the check run's line about a PR's CI feedback rounds
// ("" when it had none).
func FeedbackLine(fb *botpr.Feedback, ciRounds int) string {
	if fb == nil || (fb.Rounds == 0 && !fb.NeedsHuman) {
		return ""
	}
	line := fmt.Sprintf("\n\nCI feedback rounds used on this pull request: %d of %d.", fb.Rounds, ciRounds)
	if fb.NeedsHuman {
		line += " It is labelled `" + botpr.NeedsHumanLabel + "`."
	}
	return line
}

// SaveFeedback writes fb into the state block of key k's open PR, unless
// it is already there. It reports the PR number (0 when the key has no
// open PR).
func (m *Manager) SaveFeedback(ctx context.Context, client *github.Client, owner, repo string, k keys.Key, fb *botpr.Feedback) (int, error) {
	pr, st, err := m.PR(ctx, client, owner, repo, k)
	if err != nil || pr == nil || pr.GetState() != "open" || st.Key == "" {
		return 0, err
	}
	if reflect.DeepEqual(st.Feedback, fb) {
		return pr.GetNumber(), nil
	}
	st.Feedback = fb.Clone()
	if _, _, err := client.PullRequests.Edit(ctx, owner, repo, pr.GetNumber(), &github.PullRequest{Body: github.Ptr(botpr.ReplaceState(pr.GetBody(), st))}); err != nil {
		return 0, fmt.Errorf("record feedback on PR #%d: %w", pr.GetNumber(), err)
	}
	return pr.GetNumber(), nil
}

// ReportCI is for rules that do not loop on CI (images): when the other
// checks on the head of key k's open PR (tend's own commit) finished with
// failures, a check run of the rule names them, once per set of failures.
// It reports whether it posted.
func (m *Manager) ReportCI(ctx context.Context, client *github.Client, owner, repo string, k keys.Key) (bool, error) {
	pr, st, err := m.PR(ctx, client, owner, repo, k)
	if err != nil || pr == nil || pr.GetState() != "open" || pr.GetHead().GetSHA() != st.Head {
		return false, err
	}
	head := pr.GetHead().GetSHA()
	ci, err := m.ReadCI(ctx, client, owner, repo, head)
	if err != nil || !ci.Failing() {
		return false, err
	}
	fb := st.Feedback.Clone()
	if fb == nil {
		fb = &botpr.Feedback{}
	}
	if fb.Reported == head+":"+ci.Fingerprint() {
		return false, nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Other checks on this pull request's head %s failed: %s.\n\n", short(head), ci.Names())
	b.WriteString("This rule is deterministic, so tend does not change its proposal because of them: look at the failures, fix them on the base branch or re-run them, or close the pull request.\n\n")
	b.WriteString("| check | result | details |\n|---|---|---|\n")
	for _, f := range ci.Failures {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", escapeCell(f.Name), f.Conclusion, escapeCell(oneLine(f.Title+" "+f.Summary, 200)))
	}
	if err := PostCheck(ctx, client, owner, repo, Check{
		Name: CheckName(k.Rule), HeadSHA: head, ExternalID: k.String(), Conclusion: "neutral",
		Title: fmt.Sprintf("%d other check(s) failed", len(ci.Failures)), Summary: b.String(), Reconcilable: true,
	}); err != nil {
		return false, err
	}
	fb.Reported = head + ":" + ci.Fingerprint()
	_, err = m.SaveFeedback(ctx, client, owner, repo, k, fb)
	return err == nil, err
}
