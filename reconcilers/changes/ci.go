package changes

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/google/go-github/v89/github"
)

// CheckFailure is one failing check on a commit: a check run of another
// app (GitHub Actions included) or a commit status.
type CheckFailure struct {
	// Name is the check run's name or the status's context.
	Name string
	// Conclusion is the check run's conclusion, or the status's state.
	Conclusion string
	// Title, Summary and Text are the check run's output (a status has
	// only its description, as Summary).
	Title, Summary, Text string
	URL                  string
	// JobID is the GitHub Actions job behind the check run (its id), 0 for
	// other apps and statuses.
	JobID int64
	// Log is the tail of the job's log, when the caller read it.
	Log string
}

// CIState is what other apps report on a commit.
type CIState struct {
	// Pending names the checks and statuses that have not finished.
	Pending []string
	// Failures are the finished checks that failed, in name order.
	Failures []CheckFailure
}

// Done reports whether every check and status on the commit finished.
func (c CIState) Done() bool { return len(c.Pending) == 0 }

// Failing reports whether the commit's checks finished with a failure.
func (c CIState) Failing() bool { return c.Done() && len(c.Failures) > 0 }

// Fingerprint identifies the set of failures (which checks, how they
// ended), so that the same set is acted on or reported once.
func (c CIState) Fingerprint() string {
	h := sha256.New()
	for _, f := range c.Failures {
		fmt.Fprintf(h, "%s\x00%s\x00%d\x00", f.Name, f.Conclusion, f.JobID)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Names lists the failures as "`name` (conclusion)", for Markdown: other
// apps choose the names, so each is a code span (backticks and line breaks
// removed) and cannot mention people or link.
func (c CIState) Names() string {
	parts := make([]string, len(c.Failures))
	for i, f := range c.Failures {
		name := strings.NewReplacer("`", "'", "\n", " ", "\r", " ").Replace(f.Name)
		parts[i] = "`" + name + "` (" + f.Conclusion + ")"
	}
	return strings.Join(parts, ", ")
}

// maxCIPages bounds the check runs and statuses read per commit.
const maxCIPages = 3

// actionsSlug is GitHub Actions' App slug: its check runs are jobs whose
// logs can be read.
const actionsSlug = "github-actions"

// ReadCI reads the checks of other apps and the commit statuses on sha;
// tend's own check runs are left out.
func (m *Manager) ReadCI(ctx context.Context, client *github.Client, owner, repo, sha string) (CIState, error) {
	var st CIState
	self := int64(0)
	if m.Identity != nil {
		self = m.Identity.AppID
	}
	opts := &github.ListCheckRunsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for page := 0; page < maxCIPages; page++ {
		res, resp, err := client.Checks.ListCheckRunsForRef(ctx, owner, repo, sha, opts)
		if err != nil {
			return CIState{}, fmt.Errorf("list check runs of %s: %w", short(sha), err)
		}
		for _, cr := range res.CheckRuns {
			if cr.GetApp().GetID() == self && self != 0 {
				continue
			}
			st.addCheckRun(cr)
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	combined, _, err := client.Repositories.GetCombinedStatus(ctx, owner, repo, sha, &github.ListOptions{PerPage: 100})
	if err != nil {
		return CIState{}, fmt.Errorf("read the commit statuses of %s: %w", short(sha), err)
	}
	for _, s := range combined.Statuses {
		switch s.GetState() {
		case "pending":
			st.Pending = append(st.Pending, s.GetContext())
		case "failure", "error":
			st.Failures = append(st.Failures, CheckFailure{Name: s.GetContext(), Conclusion: s.GetState(), Summary: s.GetDescription(), URL: s.GetTargetURL()})
		}
	}
	sort.SliceStable(st.Failures, func(i, j int) bool { return st.Failures[i].Name < st.Failures[j].Name })
	return st, nil
}

func (c *CIState) addCheckRun(cr *github.CheckRun) {
	if cr.GetStatus() != "completed" {
		c.Pending = append(c.Pending, cr.GetName())
		return
	}
	switch cr.GetConclusion() {
	case "failure", "timed_out", "startup_failure":
	default:
		return
	}
	f := CheckFailure{
		Name: cr.GetName(), Conclusion: cr.GetConclusion(), URL: cr.GetDetailsURL(),
		Title: cr.GetOutput().GetTitle(), Summary: cr.GetOutput().GetSummary(), Text: cr.GetOutput().GetText(),
	}
	if cr.GetApp().GetSlug() == actionsSlug {
		f.JobID = cr.GetID()
	}
	c.Failures = append(c.Failures, f)
}
