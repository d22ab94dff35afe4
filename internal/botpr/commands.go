package botpr

import (
	"encoding/json"
	"slices"
	"unicode/utf8"
)

// Commands is what tend remembers of the comment commands of one key: how
// far it has read each comment stream, the instructions people gave, whom
// it told that they may not command, and the work a picked-up command still
// waits for. Path keys keep it in their PR's state block; issue keys in
// tend's status comment on the issue (a key may have no PR yet).
type Commands struct {
	// Seen is the id of the last comment handled on the key's PR; SeenIssue
	// the same on a request issue. Comment ids only grow, so a comment with
	// a larger id is new, and a redelivered one is not.
	Seen      int64 `json:"seen,omitempty"`
	SeenIssue int64 `json:"seen_issue,omitempty"`
	// Instructions from `/reconcile <text>`, oldest first, for PR (a
	// number: instructions end with the PR they were given for; 0 while
	// an issue key has no PR yet).
	Instructions []string `json:"instr,omitempty"`
	PR           int      `json:"pr,omitempty"`
	// Denied are the logins told once that they may not use commands.
	Denied []string `json:"denied,omitempty"`
	// Pending is the work of accepted commands not finished yet; a run that
	// fails before finishing it leaves it for the retry.
	Pending *Pending `json:"pending,omitempty"`
}

// Pending is what accepted commands asked and no run has finished yet.
type Pending struct {
	// Fresh asks for a new check run even when nothing changed.
	Fresh bool `json:"fresh,omitempty"`
	// Recreate asks to regenerate the PR from the base branch.
	Recreate bool `json:"recreate,omitempty"`
	// Ack are the comments (ids) that get +1 (or confused) when done.
	Ack []int64 `json:"ack,omitempty"`
}

// Bounds keep the state block (parsed up to 16 KiB) small.
const (
	maxInstructionBytes = 8000
	maxDenied           = 30
	maxAck              = 30
)

// AddInstructions appends instructions, dropping the oldest ones beyond
// the size bound. The bound is on the encoded size: JSON escapes "<" and
// ">" to six bytes each, and the whole block must stay parseable.
func (c *Commands) AddInstructions(texts ...string) {
	for _, t := range texts {
		c.Instructions = append(c.Instructions, fitEncoded(t, maxInstructionBytes))
	}
	total := 0
	for i := len(c.Instructions) - 1; i >= 0; i-- {
		enc, _ := json.Marshal(c.Instructions[i])
		total += len(enc)
		if total > maxInstructionBytes {
			c.Instructions = slices.Clone(c.Instructions[i+1:])
			return
		}
	}
}

// Deny records that login was told it may not command; it reports false
// when it had been told already.
func (c *Commands) Deny(login string) bool {
	if slices.Contains(c.Denied, login) {
		return false
	}
	c.Denied = append(c.Denied, login)
	if len(c.Denied) > maxDenied {
		c.Denied = c.Denied[len(c.Denied)-maxDenied:]
	}
	return true
}

// Want merges the work of newly accepted commands into Pending.
func (c *Commands) Want(fresh, recreate bool, ack ...int64) {
	if !fresh && !recreate && len(ack) == 0 {
		return
	}
	if c.Pending == nil {
		c.Pending = &Pending{}
	}
	c.Pending.Fresh = c.Pending.Fresh || fresh
	c.Pending.Recreate = c.Pending.Recreate || recreate
	c.Pending.Ack = append(c.Pending.Ack, ack...)
	if len(c.Pending.Ack) > maxAck {
		c.Pending.Ack = c.Pending.Ack[len(c.Pending.Ack)-maxAck:]
	}
}

// Empty reports whether there is nothing to remember.
func (c *Commands) Empty() bool {
	return c == nil || (c.Seen == 0 && c.SeenIssue == 0 && len(c.Instructions) == 0 && len(c.Denied) == 0 && c.Pending == nil)
}

// fitEncoded cuts s (at a character boundary) until its JSON encoding has
// at most n bytes.
func fitEncoded(s string, n int) string {
	for {
		enc, _ := json.Marshal(s)
		if len(enc) <= n {
			return s
		}
		cut := len(s) * 3 / 4
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
}
