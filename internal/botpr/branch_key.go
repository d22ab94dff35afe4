package botpr

import (
	"strconv"
	"strings"

	"github.com/tend-app/tend/internal/keys"
)

// BranchKeys inverts BranchName for owner/repo: the keys whose PR would
// live on branch (the path key "issue-7" and issue #7 share a name, so
// there may be two). It finds none for a branch that is not tend's, or one
// whose name BranchName had to shorten or clean (those carry a hash; the
// caller reads their key from the PR's state block instead). A candidate
// is only a guess: the caller checks it against the repository's rules.
func BranchKeys(owner, repo, branch string) []keys.Key {
	rest, ok := strings.CutPrefix(branch, BranchPrefix)
	if !ok {
		return nil
	}
	rule, tail, ok := strings.Cut(rest, "/")
	if !ok || tail == "" {
		return nil
	}
	var candidates []keys.Key
	if n, ok := strings.CutPrefix(tail, "issue-"); ok {
		if num, err := strconv.Atoi(n); err == nil && num > 0 {
			if k, err := keys.ForIssue(owner, repo, rule, num); err == nil {
				candidates = append(candidates, k)
			}
		}
	}
	if k, err := keys.ForPath(owner, repo, rule, tail); err == nil {
		candidates = append(candidates, k)
	}
	var out []keys.Key
	for _, k := range candidates {
		if BranchName(k) == branch {
			out = append(out, k)
		}
	}
	return out
}
