package botpr

// Feedback is what a PR's state block remembers of the feedback tend gave
// its agent: CI rounds (bounded by the rule's ci_rounds) and the reviews
// and review comments already used. Everything is a count or a watermark,
// so the block stays small however long the PR lives.
type Feedback struct {
	// Rounds is how many CI feedback rounds the agent had on this PR.
	// A green run does not reset it; a person's resume does.
	Rounds int `json:"rounds,omitempty"`
	// RoundHead is the PR head whose failing checks started the last
	// round: a head gets at most one round.
	RoundHead string `json:"rhead,omitempty"`
	// Tried has one line per CI round (the head and what failed on it),
	// for the comment that hands the PR to a person.
	Tried []string `json:"tried,omitempty"`
	// NeedsHuman is set once the rounds are spent and the PR is labelled
	// tend/needs-human; HoldInputs are the run inputs at that moment, so
	// a new desired state lifts the hold.
	NeedsHuman bool   `json:"human,omitempty"`
	HoldInputs string `json:"hin,omitempty"`
	// ReviewSeen and CommentSeen are the newest review and review comment
	// ids handled: GitHub's ids grow, so each is used once.
	ReviewSeen  int64 `json:"review,omitempty"`
	CommentSeen int64 `json:"comment,omitempty"`
	// Reported identifies the failing checks an images rule's check run
	// last named, so each set is reported once.
	Reported string `json:"reported,omitempty"`
}

// MaxTried bounds Feedback.Tried.
const MaxTried = 10

// AddTried records one CI round's line, keeping the newest MaxTried.
func (f *Feedback) AddTried(line string) {
	f.Tried = append(f.Tried, line)
	if len(f.Tried) > MaxTried {
		f.Tried = f.Tried[len(f.Tried)-MaxTried:]
	}
}

// Clone returns a deep copy (nil for nil).
func (f *Feedback) Clone() *Feedback {
	if f == nil {
		return nil
	}
	c := *f
	c.Tried = append([]string(nil), f.Tried...)
	return &c
}

// NeedsHumanLabel marks a PR whose CI rounds are spent; removing it hands
// the PR back to tend.
const NeedsHumanLabel = "tend/needs-human"
