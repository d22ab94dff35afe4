package agent

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-github/v89/github"

	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/clip"
	"github.com/tend-app/tend/internal/keys"
	"github.com/tend-app/tend/prompts"
	"github.com/tend-app/tend/reconcilers"
	"github.com/tend-app/tend/reconcilers/changes"
)

// Bounds on the feedback one round carries.
const (
	maxFeedbackPages = 3 // pages of 100 reviews, and of review comments
	maxReviewNotes   = 10
	maxPromptChecks  = 8
	maxJobLogs       = 4
	maxHunk          = 1500
)

// feedback is what a run found for the agent about its own open PR: a CI
// round (failing checks on the head), reviews from people with write
// access, or that the CI rounds are spent and the PR needs a person.
type feedback struct {
	// next is the PR's feedback record after this run.
	next *botpr.Feedback
	// changed says next differs from the PR's record in a way that must
	// be saved even if no round runs (the hold was lifted); unlabel, that
	// tend/needs-human must come off too.
	changed, unlabel bool
	ci               changes.CIState
	ciRound          bool
	// hold: the rounds are spent now; held: the PR waits for a person.
	hold, held bool
	reviews    []prompts.ReviewNote
	maxRounds  int
}

// due reports whether the agent has feedback to act on.
func (f *feedback) due() bool { return f != nil && (f.ciRound || len(f.reviews) > 0) }

// gatherFeedback reads the checks and reviews of the run's open PR when it
// holds only tend's own commits. rn.inputs must be set: a new desired
// state lifts a hold.
func (r *Reconciler) gatherFeedback(ctx context.Context, rn *run) (*feedback, error) {
	if rn.pr == nil || rn.pr.GetHead().GetSHA() != rn.st.Head || rn.st.Head == "" {
		return nil, nil
	}
	client, k, head := rn.req.Client, rn.k, rn.st.Head
	fb := &feedback{next: rn.st.Feedback.Clone(), maxRounds: rn.req.Rule.CIRounds}
	if fb.next == nil {
		fb.next = &botpr.Feedback{}
	}
	n := fb.next
	labelled := slices.ContainsFunc(rn.pr.Labels, func(l *github.Label) bool { return strings.EqualFold(l.GetName(), botpr.NeedsHumanLabel) })
	asked := rn.req.Steering.Fresh || rn.req.Steering.Recreate
	if n.NeedsHuman && (!labelled || asked || (n.HoldInputs != "" && n.HoldInputs != rn.inputs)) {
		// Someone took the label off or commanded tend, or the desired
		// state changed: the agent gets its rounds back.
		n.NeedsHuman, n.HoldInputs, n.Rounds, n.RoundHead = false, "", 0, ""
		fb.changed, fb.unlabel = true, labelled
	}
	reviews, err := r.reviewNotes(ctx, rn, n)
	if err != nil {
		return nil, err
	}
	fb.reviews = reviews
	if fb.maxRounds > 0 && !n.NeedsHuman {
		ci, err := r.Changes.ReadCI(ctx, client, k.Owner, k.Repo, head)
		if err != nil {
			return nil, err
		}
		switch {
		case !ci.Failing():
		case n.RoundHead == head || n.Rounds >= fb.maxRounds:
			// The last round did not get CI green (or changed nothing).
			fb.hold, fb.ci = true, ci
		default:
			fb.ciRound, fb.ci = true, ci
			n.Rounds++
			n.RoundHead = head
			n.AddTried(fmt.Sprintf("round %d, on %s: %s", n.Rounds, shortSHA(head), triedNames(ci.Names())))
			r.readLogs(ctx, rn, &fb.ci)
		}
	}
	fb.held = n.NeedsHuman
	return fb, nil
}

// readLogs fills in the log tails of failing GitHub Actions jobs. A log
// that cannot be read is left out: the check's own output remains.
func (r *Reconciler) readLogs(ctx context.Context, rn *run, ci *changes.CIState) {
	read := 0
	for i := range ci.Failures {
		f := &ci.Failures[i]
		if f.JobID == 0 || read >= maxJobLogs {
			continue
		}
		read++
		tail, err := jobLogTail(ctx, rn.req.Client, rn.k.Owner, rn.k.Repo, f.JobID)
		if err != nil {
			rn.req.Log.Warn().Err(err).Str("check", f.Name).Msg("reading a job log")
			continue
		}
		f.Log = tail
	}
}

// reviewNotes returns the reviews requesting changes and the review
// comments newer than the record's watermarks, by people with write
// access, and moves the watermarks past everything it read. Comments on
// lines that are gone from the diff (outdated) are not replayed.
func (r *Reconciler) reviewNotes(ctx context.Context, rn *run, n *botpr.Feedback) ([]prompts.ReviewNote, error) {
	client, k, num := rn.req.Client, rn.k, rn.pr.GetNumber()
	w := newWriters(client, k.Owner, k.Repo)
	var notes []prompts.ReviewNote
	add := func(login, userType string, note prompts.ReviewNote) error {
		if login == "" || userType == "Bot" || r.Changes.Identity.IsBot(login, userType) || len(notes) >= maxReviewNotes {
			return nil
		}
		ok, err := w.has(ctx, login)
		if ok {
			note.By = login
			notes = append(notes, note)
		}
		return err
	}
	reviews, err := listAll(func(o *github.ListOptions) ([]*github.PullRequestReview, *github.Response, error) {
		return client.PullRequests.ListReviews(ctx, k.Owner, k.Repo, num, o)
	})
	if err != nil {
		return nil, fmt.Errorf("list the reviews of #%d: %w", num, err)
	}
	seen := n.ReviewSeen
	for _, rv := range reviews {
		if rv.GetID() <= n.ReviewSeen {
			continue
		}
		seen = max(seen, rv.GetID())
		if rv.GetState() != "CHANGES_REQUESTED" {
			continue
		}
		if err := add(rv.GetUser().GetLogin(), rv.GetUser().GetType(), prompts.ReviewNote{Kind: "review", State: rv.GetState(), Body: rv.GetBody()}); err != nil {
			return nil, err
		}
	}
	n.ReviewSeen = seen
	comments, err := listAll(func(o *github.ListOptions) ([]*github.PullRequestComment, *github.Response, error) {
		return client.PullRequests.ListComments(ctx, k.Owner, k.Repo, num, &github.PullRequestListCommentsOptions{ListOptions: *o})
	})
	if err != nil {
		return nil, fmt.Errorf("list the review comments of #%d: %w", num, err)
	}
	seen = n.CommentSeen
	for _, c := range comments {
		if c.GetID() <= n.CommentSeen {
			continue
		}
		seen = max(seen, c.GetID())
		if c.Line == nil && c.Position == nil {
			continue // outdated: the line is no longer in the diff
		}
		note := prompts.ReviewNote{Kind: "comment", Body: c.GetBody(), Path: safePath(c.GetPath()), Line: c.GetLine(), Hunk: lastBytes(c.GetDiffHunk(), maxHunk)}
		if err := add(c.GetUser().GetLogin(), c.GetUser().GetType(), note); err != nil {
			return nil, err
		}
	}
	n.CommentSeen = seen
	return notes, nil
}

// listAll reads up to maxFeedbackPages pages of 100 items, oldest first.
func listAll[T any](list func(*github.ListOptions) ([]T, *github.Response, error)) ([]T, error) {
	var all []T
	opts := &github.ListOptions{PerPage: 100}
	for range maxFeedbackPages {
		items, resp, err := list(opts)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if resp == nil || resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return all, nil
}

// safePath is a review comment's path if it is a clean repository path
// that cannot break out of the prompt's backticks.
func safePath(p string) string {
	if keys.ValidatePath(p) != nil || strings.ContainsAny(p, "`\n\r") {
		return "(a file)"
	}
	return p
}

// lastBytes keeps the end of s (a diff hunk's last lines are the
// commented ones), at most n bytes from a line start.
func lastBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return strings.ToValidUTF8(s, "")
}

func shortSHA(sha string) string { return sha[:min(len(sha), 7)] }

// triedNames is a CI round's failures as the state block keeps them: other
// apps name their checks, so the text is cut short and stripped of what
// JSON would escape into several bytes, keeping the block within its size.
func triedNames(names string) string {
	clean := strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || strings.ContainsRune("<>&\"\\", r) {
			return ' '
		}
		return r
	}, names)
	return clip.Text(clean, 160, "…")
}

// prompt renders the feedback section of the task.
func (f *feedback) prompt() (string, error) {
	if !f.due() {
		return "", nil
	}
	data := prompts.Feedback{Reviews: f.reviews}
	if f.ciRound {
		data.Round, data.MaxRounds = f.next.Rounds, f.maxRounds
		for i, c := range f.ci.Failures {
			if i == maxPromptChecks {
				break
			}
			data.Failures = append(data.Failures, prompts.CheckFailure{Name: c.Name, Conclusion: c.Conclusion, Title: c.Title, Summary: c.Summary, Text: c.Text, Log: c.Log})
		}
	}
	return prompts.Render("feedback", data)
}

// feedbackGate acts on what gatherFeedback found before anything else
// runs: it hands the PR to people when the rounds are spent, and stops a
// run on a held PR unless a review asks for changes. done says the run
// ends here with res.
func (r *Reconciler) feedbackGate(ctx context.Context, rn *run) (res reconcilers.Result, done bool, err error) {
	fb, err := r.gatherFeedback(ctx, rn)
	if err != nil || fb == nil {
		return reconcilers.Result{}, err != nil, err
	}
	rn.fb = fb
	if fb.unlabel {
		if err := r.removeHoldLabel(ctx, rn); err != nil {
			return reconcilers.Result{}, true, err
		}
	}
	switch {
	case fb.hold:
		res, err := r.holdForHuman(ctx, rn, fb)
		if err != nil || len(fb.reviews) == 0 {
			return res, true, err
		}
		// Writers' reviews still get their round on a held PR.
		fb.held = true
	case fb.held && !fb.due():
		return reconcilers.Result{Outcome: "needs-human"}, true, nil
	case fb.changed && !fb.due():
		// The hold was lifted and there is nothing to act on yet.
		_, err := r.Changes.SaveFeedback(ctx, rn.req.Client, rn.k.Owner, rn.k.Repo, rn.k, fb.next)
		return reconcilers.Result{}, err != nil, err
	}
	return reconcilers.Result{}, false, nil
}

// feedbackRecord is the PR's feedback record as this run leaves it.
func (rn *run) feedbackRecord() *botpr.Feedback {
	if rn.fb != nil {
		return rn.fb.next
	}
	return rn.st.Feedback
}
