package botpr

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestDeclineAdd(t *testing.T) {
	var d Decline
	d.Add(Proposal{Rewrites: []string{"a:1@sha256:1", "b:2@sha256:2"}}, 4)
	d.Add(Proposal{Rewrites: []string{"b:2@sha256:2", "b:2@sha256:3"}}, 9)
	d.Add(Proposal{Rewrites: []string{"a:1@sha256:1"}}, 9) // the same PR seen again
	if want := []string{"a:1@sha256:1", "b:2@sha256:2", "b:2@sha256:3"}; !slices.Equal(d.Rewrites, want) {
		t.Errorf("rewrites = %v, want %v", d.Rewrites, want)
	}
	if !slices.Equal(d.PRs, []int{4, 9}) || !d.Has(4) || d.Has(5) {
		t.Errorf("PRs = %v", d.PRs)
	}
	if !d.DeclinedRewrite("b:2@sha256:3") || d.DeclinedRewrite("b:2@sha256:4") {
		t.Errorf("DeclinedRewrite answers wrongly")
	}

	// The agent's terms are those of the last declined PR; rewrites stay.
	d.Add(Proposal{Inputs: "i1", Reads: map[string]string{"a.md": "s1"}}, 10)
	d.Add(Proposal{Inputs: "i2", Reads: map[string]string{"b.md": "s2"}}, 11)
	d.Add(Proposal{Hash: "h"}, 12)
	if d.Inputs != "i2" || len(d.Reads) != 1 || d.Reads["b.md"] != "s2" || d.Hash != "h" || len(d.Rewrites) != 3 {
		t.Errorf("after agent declines: %+v", d)
	}

	back, err := ParseDecline(d.Marshal())
	if err != nil || back.Marshal() != d.Marshal() {
		t.Errorf("round trip: %+v, %v", back, err)
	}
	if _, err := ParseDecline("{not json"); err == nil {
		t.Errorf("a broken record parses")
	}
	if none, err := ParseDecline(""); err != nil || !none.Empty() || len(none.PRs) != 0 {
		t.Errorf("the empty record = %+v, %v", none, err)
	}
}

// The oldest rewrites are forgotten past the bound.
func TestDeclineBounded(t *testing.T) {
	var d Decline
	for pr := 1; pr <= 3; pr++ {
		var rs []string
		for i := 0; i < MaxDeclinedRewrites/2; i++ {
			rs = append(rs, fmt.Sprintf("img%d:%d@sha256:x", pr, i))
		}
		d.Add(Proposal{Rewrites: rs}, pr)
	}
	if len(d.Rewrites) != MaxDeclinedRewrites || d.DeclinedRewrite("img1:0@sha256:x") || !d.DeclinedRewrite("img3:0@sha256:x") {
		t.Errorf("%d rewrites kept; oldest kept: %v", len(d.Rewrites), d.DeclinedRewrite("img1:0@sha256:x"))
	}
}

// A state block carries the proposal and the decline marks, and stays
// well under the parse bound with a large proposal.
func TestStateCarriesProposal(t *testing.T) {
	st := State{Key: "acme/web:pin:a.yaml", Hash: "h", Declined: true, Reconsidered: true,
		Proposal: &Proposal{Rewrites: []string{"ghcr.io/a/b:1@sha256:" + strings.Repeat("a", 64)}}}
	got, ok := ParseState("body\n\n" + FormatState(st))
	if !ok || !got.Declined || !got.Reconsidered || got.Proposal == nil || !slices.Equal(got.Proposal.Rewrites, st.Proposal.Rewrites) {
		t.Errorf("parsed %+v", got)
	}
}

func TestProposalBounded(t *testing.T) {
	var p Proposal
	for i := 0; i < 2000; i++ {
		p.Rewrites = append(p.Rewrites, fmt.Sprintf("registry.example.com/team/image%04d:v1@sha256:%064d", i, i))
	}
	b := p.Bounded()
	if len(b.Rewrites) == 0 || len(b.Rewrites) >= len(p.Rewrites) || b.Rewrites[0] != p.Rewrites[0] {
		t.Fatalf("bounded to %d rewrites", len(b.Rewrites))
	}
	st := State{Key: "acme/web:pin:a.yaml", Proposal: &b, Hash: strings.Repeat("h", 32)}
	if got, ok := ParseState(FormatState(st)); !ok || len(got.Proposal.Rewrites) != len(b.Rewrites) {
		t.Errorf("a state block with a bounded proposal does not parse (%d bytes)", len(FormatState(st)))
	}
	if small := (Proposal{Rewrites: []string{"a"}}).Bounded(); len(small.Rewrites) != 1 {
		t.Errorf("a small proposal was cut")
	}
}

func TestCoversRewrites(t *testing.T) {
	var d Decline
	d.Add(Proposal{Rewrites: []string{"a", "b"}}, 1)
	for _, c := range []struct {
		p    Proposal
		want bool
	}{
		{Proposal{Rewrites: []string{"a"}}, true},
		{Proposal{Rewrites: []string{"b", "a"}}, true},
		{Proposal{Rewrites: []string{"a", "c"}}, false},
		{Proposal{}, false},
		{Proposal{Inputs: "i"}, false},
	} {
		if got := d.CoversRewrites(c.p); got != c.want {
			t.Errorf("CoversRewrites(%+v) = %v", c.p, got)
		}
	}
}
