package botpr

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
)

// Proposal is what one tend PR proposes, in the terms a person's decline
// is remembered in. Each reconciler fills the part that fits what it
// proposes; a decline holds until a later run would propose something
// these terms tell apart.
type Proposal struct {
	// Rewrites (images rules) are the reference rewrites the PR makes,
	// each "canonical-name:tag@digest" (the reference it ends up as),
	// sorted and distinct.
	Rewrites []string `json:"rewrites,omitempty"`
	// Inputs (agent rules) fingerprints the rule's prompt and the request
	// (issue, instructions) the run worked from.
	Inputs string `json:"inputs,omitempty"`
	// Reads (agent rules) are the files the run read, path → blob SHA at
	// the base it read them from.
	Reads map[string]string `json:"reads,omitempty"`
	// Hash is the desired-state hash, for a change that says nothing else
	// about itself (and for PRs written before proposals existed).
	Hash string `json:"hash,omitempty"`
}

// Empty reports whether the proposal says nothing.
func (p Proposal) Empty() bool {
	return len(p.Rewrites) == 0 && p.Inputs == "" && len(p.Reads) == 0 && p.Hash == ""
}

// Decline is what people declined for one key: the proposals of the PRs
// they closed unmerged, merged together. Rewrites accumulate (each one
// declined stays declined); the agent's inputs and the hash are those of
// the last declined PR.
type Decline struct {
	Proposal
	// PRs are the numbers of the declined PRs, oldest first.
	PRs []int `json:"prs,omitempty"`
}

// MaxDeclinedRewrites bounds the rewrites remembered for one key; the
// oldest are forgotten first (a tag declined long ago has moved since).
const MaxDeclinedRewrites = 500

// Add merges the proposal of declined PR number pr into d.
func (d *Decline) Add(p Proposal, pr int) {
	if !slices.Contains(d.PRs, pr) {
		d.PRs = append(d.PRs, pr)
	}
	seen := map[string]bool{}
	var merged []string
	for _, r := range append(slices.Clone(d.Rewrites), p.Rewrites...) {
		if !seen[r] {
			seen[r] = true
			merged = append(merged, r)
		}
	}
	if n := len(merged); n > MaxDeclinedRewrites {
		merged = merged[n-MaxDeclinedRewrites:]
	}
	d.Rewrites = merged
	if p.Inputs != "" || len(p.Reads) > 0 {
		d.Inputs, d.Reads = p.Inputs, p.Reads
	}
	if p.Hash != "" {
		d.Hash = p.Hash
	}
}

// Has reports whether PR number pr is part of the decline.
func (d Decline) Has(pr int) bool { return slices.Contains(d.PRs, pr) }

// DeclinedRewrite reports whether rewrite (as in Proposal.Rewrites) was
// declined.
func (d Decline) DeclinedRewrite(rewrite string) bool { return slices.Contains(d.Rewrites, rewrite) }

// CoversRewrites reports whether p proposes rewrites and people declined
// every one of them.
func (d Decline) CoversRewrites(p Proposal) bool {
	if len(p.Rewrites) == 0 {
		return false
	}
	for _, r := range p.Rewrites {
		if !d.DeclinedRewrite(r) {
			return false
		}
	}
	return true
}

// Marshal renders d for storage.
func (d Decline) Marshal() string {
	b, _ := json.Marshal(d)
	return string(b)
}

// ParseDecline reads a stored decline ("" is none).
func ParseDecline(s string) (Decline, error) {
	var d Decline
	if s == "" {
		return d, nil
	}
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		return Decline{}, fmt.Errorf("parse decline: %w", err)
	}
	return d, nil
}

// MaxProposalBytes bounds the rewrites a proposal keeps in a PR's state
// block. A file with more distinct rewrites than fit (some 300) has the
// rest proposed but not remembered when the PR is declined.
const MaxProposalBytes = 32 << 10

// Bounded returns p with its rewrites cut to MaxProposalBytes.
func (p Proposal) Bounded() Proposal {
	size := 0
	for i, r := range p.Rewrites {
		size += len(r) + 3
		if size > MaxProposalBytes {
			p.Rewrites = p.Rewrites[:i:i]
			break
		}
	}
	return p
}

// SortedRewrites returns rewrites sorted and without repeats.
func SortedRewrites(rewrites []string) []string {
	out := slices.Clone(rewrites)
	sort.Strings(out)
	return slices.Compact(out)
}
