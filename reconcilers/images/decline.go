package images

import (
	"fmt"
	"strings"

	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/imagename"
)

// rewriteOf names a rewrite the way a decline remembers it: the reference
// it ends up as, "canonical-name:tag@digest", so that "nginx" and
// "docker.io/library/nginx" are one image, and edits elsewhere in the file
// (or to the reference's old text) do not make it a different rewrite.
func rewriteOf(p Change) string {
	name := imagename.Canonical(p.Image)
	if name == "" {
		name = p.Image
	}
	return name + ":" + p.ToTag + "@" + p.ToDigest
}

// proposalOf is what a PR made of pins proposes.
func proposalOf(pins []Change) *botpr.Proposal {
	rewrites := make([]string, 0, len(pins))
	for _, p := range pins {
		rewrites = append(rewrites, rewriteOf(p))
	}
	return &botpr.Proposal{Rewrites: botpr.SortedRewrites(rewrites)}
}

// withholdDeclined leaves out of pins the rewrites people declined and
// returns content with only the others applied (pins as UpdateRefs
// returns them).
func withholdDeclined(content []byte, pins []Change, d botpr.Decline) (out []byte, kept, withheld []Change) {
	if len(d.Rewrites) == 0 {
		kept = pins
	} else {
		for _, p := range pins {
			if d.DeclinedRewrite(rewriteOf(p)) {
				withheld = append(withheld, p)
			} else {
				kept = append(kept, p)
			}
		}
	}
	if len(kept) == 0 {
		return content, nil, withheld
	}
	return ApplyChanges(content, kept), kept, withheld
}

// withheldNote tells the PR and check run which rewrites were left out.
func withheldNote(withheld []Change, d botpr.Decline) string {
	if len(withheld) == 0 {
		return ""
	}
	var b strings.Builder
	prs := make([]string, len(d.PRs))
	for i, n := range d.PRs {
		prs[i] = fmt.Sprintf("#%d", n)
	}
	fmt.Fprintf(&b, "\n\nNot proposed, because people declined them (%s): ", strings.Join(prs, ", "))
	for i, p := range withheld {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "`%s` (line %d)", p.New, p.Ref.Line)
	}
	b.WriteString(". Comment `/reconcile` on a declined pull request to have them proposed anyway.")
	return b.String()
}
