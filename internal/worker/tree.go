package worker

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/google/go-github/v89/github"

	"github.com/tend-app/tend/internal/config"
	"github.com/tend-app/tend/internal/keys"
)

// listPaths returns the files on ref that the rule's globs match, sorted.
// It asks for the recursive tree once; when GitHub truncates that answer
// (huge repositories), it walks the tree level by level instead, skipping
// directories no glob can reach.
func (w *Worker) listPaths(ctx context.Context, client *github.Client, owner, repo, ref string, rule config.Rule) ([]string, error) {
	tree, _, err := client.Git.GetTree(ctx, owner, repo, ref, true)
	if err != nil {
		return nil, fmt.Errorf("list tree of %s: %w", ref, err)
	}
	var out []string
	if !tree.GetTruncated() {
		for _, e := range tree.Entries {
			if e.GetType() == "blob" && rule.Matches(e.GetPath()) && keys.ValidatePath(e.GetPath()) == nil {
				out = append(out, e.GetPath())
			}
		}
		sort.Strings(out)
		return out, nil
	}
	maxTrees := w.MaxTrees
	if maxTrees <= 0 {
		maxTrees = 1000
	}
	type dir struct{ sha, path string }
	root, _, err := client.Git.GetTree(ctx, owner, repo, ref, false)
	if err != nil {
		return nil, fmt.Errorf("list tree of %s: %w", ref, err)
	}
	pending := []struct {
		dir
		entries []*github.TreeEntry
	}{{dir{root.GetSHA(), ""}, root.Entries}}
	requests := 1
	for len(pending) > 0 {
		cur := pending[0]
		pending = pending[1:]
		for _, e := range cur.entries {
			p := e.GetPath()
			if cur.path != "" {
				p = cur.path + "/" + p
			}
			switch e.GetType() {
			case "blob":
				if rule.Matches(p) && keys.ValidatePath(p) == nil {
					out = append(out, p)
				}
			case "tree":
				if !mayMatchUnder(rule.Paths, p) {
					continue
				}
				if requests >= maxTrees {
					return nil, fmt.Errorf("rule %q: the repository is too large to list (more than %d directories to visit)", rule.Name, maxTrees)
				}
				sub, _, err := client.Git.GetTree(ctx, owner, repo, e.GetSHA(), false)
				if err != nil {
					return nil, fmt.Errorf("list tree %s: %w", p, err)
				}
				requests++
				pending = append(pending, struct {
					dir
					entries []*github.TreeEntry
				}{dir{e.GetSHA(), p}, sub.Entries})
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// mayMatchUnder reports whether any glob could match a path inside dir:
// the glob's leading segments must match dir's segments one for one, until
// the glob runs into "**" (which matches anything below).
func mayMatchUnder(globs []string, dir string) bool {
	dirSegs := strings.Split(dir, "/")
	for _, g := range globs {
		gSegs := strings.Split(g, "/")
		ok := true
		for i, ds := range dirSegs {
			if i >= len(gSegs)-1 { // the glob's last segment names files, not directories
				ok = false
				break
			}
			if gSegs[i] == "**" {
				break
			}
			if strings.Contains(gSegs[i], "**") {
				break // e.g. "a**": be generous
			}
			if m, err := path.Match(gSegs[i], ds); err != nil || !m {
				if !strings.ContainsAny(gSegs[i], "{") { // brace alternatives: path.Match can't tell, keep looking
					ok = false
					break
				}
			}
		}
		if ok {
			return true
		}
	}
	return false
}
