package botpr

import (
	"encoding/json"
	"strings"

	"github.com/tend-app/tend/internal/keys"
)

// State is the machine-readable block tend keeps at the end of each bot PR
// body. It is only trusted in a PR body written by tend's bot account (the
// caller checks the author); a block pasted into a comment means nothing.
type State struct {
	Version int    `json:"v"`
	Key     string `json:"key"`
	// Hash is the hash of the desired state the PR proposes.
	Hash string `json:"hash,omitempty"`
	// BaseHash identifies the content of the key's files on the base branch
	// when the PR was generated.
	BaseHash string `json:"basehash,omitempty"`
	// Base is the base-branch commit the PR was generated from; Head is the
	// last commit tend wrote to the branch.
	Base string `json:"base,omitempty"`
	Head string `json:"head,omitempty"`
	// Resolved is set when tend itself closed the PR (the base branch
	// reached the desired state, or the key is no longer managed). A PR
	// closed unmerged without it was declined by a person.
	Resolved bool `json:"resolved,omitempty"`
	// Proposal is what the PR proposes, in the terms a decline is
	// remembered in. PRs written before it existed have none; their Hash
	// stands in.
	Proposal *Proposal `json:"proposal,omitempty"`
	// Declined is set once tend has noticed that a person closed the PR
	// unmerged, recorded the decline and said so on the PR (once).
	Declined bool `json:"declined,omitempty"`
	// Reconsidered is set when people asked for the declined PR's change
	// anyway (a writer's /reconcile on it): the decline no longer holds.
	Reconsidered bool `json:"reconsidered,omitempty"`
	// HumanNotified is set once tend has commented that people pushed to
	// the branch.
	HumanNotified bool `json:"human,omitempty"`
	// Extra carries bookkeeping of individual reconcilers.
	Extra map[string]string `json:"extra,omitempty"`
	// Cmd is the comment-command bookkeeping of a path key (see Commands).
	Cmd *Commands `json:"cmd,omitempty"`
	// Feedback records the CI and review feedback given to the agent.
	Feedback *Feedback `json:"fb,omitempty"`
}

const (
	stateOpen  = "<!-- tend:state "
	stateClose = " -->"
	// maxStateLen bounds what is parsed out of an untrusted body. A PR
	// body holds at most 65,536 characters; the block may take most of
	// them (a proposal lists a file's rewrites, see MaxProposalBytes).
	maxStateLen = 48 << 10
)

// FormatState renders the block. JSON's HTML escaping turns "<" and ">"
// into \u003c and \u003e, so nothing inside can close the comment early.
func FormatState(s State) string {
	if s.Version == 0 {
		s.Version = 1
	}
	b, _ := json.Marshal(s)
	return stateOpen + string(b) + stateClose
}

// ParseState finds the last state block in body. It reports false when
// there is none or it does not parse, or its key is invalid.
func ParseState(body string) (State, bool) {
	for {
		i := strings.LastIndex(body, stateOpen)
		if i < 0 {
			return State{}, false
		}
		rest := body[i+len(stateOpen):]
		j := strings.Index(rest, stateClose)
		if j >= 0 && j <= maxStateLen {
			var s State
			if err := json.Unmarshal([]byte(rest[:j]), &s); err == nil && s.Version >= 1 {
				if _, err := keys.Parse(s.Key); err == nil {
					return s, true
				}
			}
		}
		// A malformed last block: look at the one before it.
		body = body[:i]
	}
}

// StateKey returns the key recorded in a PR body's state block.
func StateKey(body string) (keys.Key, bool) {
	s, ok := ParseState(body)
	if !ok {
		return keys.Key{}, false
	}
	k, err := keys.Parse(s.Key)
	return k, err == nil
}

// ReplaceState swaps the last state block of a body for st (or appends one).
func ReplaceState(body string, st State) string {
	if i := strings.LastIndex(body, stateOpen); i >= 0 {
		if j := strings.Index(body[i:], stateClose); j >= 0 {
			return body[:i] + FormatState(st) + body[i+j+len(stateClose):]
		}
	}
	return strings.TrimRight(body, "\n") + "\n\n" + FormatState(st) + "\n"
}
