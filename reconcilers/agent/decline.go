package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/keys"
	"github.com/tend-app/tend/reconcilers/agent/worktree"
)

// requestFingerprint identifies what the agent is asked to do: the rule's
// prompt and where it may write, and the request (the issue's title and
// body for an issue key, people's /reconcile instructions). A proposal people declined stays declined while
// this and the files its run read are unchanged.
func requestFingerprint(rn *run) string {
	h := sha256.New()
	w := func(parts ...string) {
		for _, p := range parts {
			h.Write([]byte(p))
			h.Write([]byte{0})
		}
	}
	w("request-v1", rn.req.Rule.Prompt, strings.Join(rn.req.Rule.Edits, "\x01"), rn.k.String())
	if rn.issue != nil {
		w(rn.issue.GetTitle(), rn.issue.GetBody())
	}

	return hex.EncodeToString(h.Sum(nil))[:32]
}

// maxReadsBytes bounds the files a proposal lists (path and SHA), so the
// state block stays far below GitHub's limit on PR bodies. A run that read
// more files is declined on the ones listed (in path order, the key's own
// file always first).
const maxReadsBytes = 6 << 10

// proposal is what a run that submitted a change proposes: the request and
// the base-branch files it read. Files the open PR changes were read as
// the PR has them, not as the base does, and are left out.
func (r *Reconciler) proposal(rn *run, reads map[string]string, prFiles map[string]*[]byte) *botpr.Proposal {
	out := map[string]string{}
	size := 0
	add := func(path, sha string) {
		if _, inPR := prFiles[path]; inPR || sha == "" || size+len(path)+len(sha) > maxReadsBytes {
			return
		}
		if _, dup := out[path]; !dup {
			out[path] = sha
			size += len(path) + len(sha) + 6
		}
	}
	if rn.k.Kind() == keys.KindPath {
		add(rn.k.Path, rn.keySHA)
	}
	paths := make([]string, 0, len(reads))
	for p := range reads {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		add(p, reads[p])
	}
	return &botpr.Proposal{Inputs: requestFingerprint(rn), Reads: out}
}

// stillDeclined reports whether people declined what this run would work
// from: the key's last PR was declined with the same request, and every
// file that run read is unchanged on the base branch. It lists the base
// tree only when the request matches.
func (r *Reconciler) stillDeclined(ctx context.Context, rn *run) (bool, error) {
	p := rn.prior
	if p == nil || p.Reconsidered() || p.Decline.Inputs == "" || p.Decline.Inputs != requestFingerprint(rn) {
		return false, nil
	}
	entries, err := worktree.GitHubSource(rn.req.Client, rn.k.Owner, rn.k.Repo, rn.base.Tree).Entries(ctx)
	if err != nil {
		return false, fmt.Errorf("list the repository: %w", err)
	}
	current := make(map[string]string, len(entries))
	for _, e := range entries {
		current[e.Path] = e.SHA
	}
	for path, sha := range p.Decline.Reads {
		if !strings.EqualFold(current[path], sha) {
			return false, nil
		}
	}
	return true, nil
}
