package prompts

// Feedback is the data of the "feedback" prompt: what people and CI said
// about tend's open PR since the agent last worked on it.
type Feedback struct {
	// CI: the round (1-based) of at most MaxRounds, and the failing checks
	// on the PR head. Round 0 means no CI feedback this run.
	Round, MaxRounds int
	Failures         []CheckFailure
	// Reviews are reviews requesting changes and review comments by people
	// with write access.
	Reviews []ReviewNote
}

// CheckFailure is one failing check, as the agent sees it.
type CheckFailure struct {
	Name, Conclusion     string
	Title, Summary, Text string
	Log                  string // tail of a GitHub Actions job's log
}

// ReviewNote is a review's body, or a comment on a line of the diff.
type ReviewNote struct {
	By    string
	Kind  string // "review" or "comment"
	Body  string
	Path  string
	Line  int
	Hunk  string // the diff hunk the comment is on
	State string // the review's state (CHANGES_REQUESTED, COMMENTED)
}
