package images

import (
	"context"
	"fmt"
	"sort"
	"sync"
)

// Resolver turns a reference to a tag into the digest the tag points at.
type Resolver interface {
	// Digest resolves ref, written "name:tag" (e.g. "nginx:1.25",
	// "ghcr.io/a/b:v1"), to a digest such as "sha256:…". For a multi-arch
	// image it is the digest of the index, not of one platform's manifest.
	// It must be safe for concurrent use.
	Digest(ctx context.Context, ref string) (string, error)
}

// Change is one rewritten reference: which image, from which tag and digest
// to which. It is the unit a person reviews (and may decline) in a PR.
type Change struct {
	Ref Ref
	// Image is the repository as written (Ref.Name).
	Image string
	// FromTag and FromDigest are what the file says now ("" when absent: no
	// tag means "latest"); ToTag and ToDigest what it will say.
	FromTag, FromDigest string
	ToTag, ToDigest     string
	// Old is Ref.Text; New is the reference afterwards, "name:tag@digest".
	Old, New string
	// Edits are the byte ranges of the file this change rewrites, in file
	// order: one for a reference written in one string, one or two (a tag
	// and a digest key) for references spread over several keys.
	Edits []Edit
}

// Edit replaces content[Start:End] (Old) with New; Start == End inserts.
type Edit struct {
	Start, End int
	Old, New   string
}

// Failure is a reference that could not be resolved. It is left as it was;
// the other references of the file are still pinned.
type Failure struct {
	Ref Ref
	Err error
}

// Options say how Update treats the references of a file.
type Options struct {
	Resolver Resolver
	// Tags lists candidate tags; needed only when Policy.Update moves tags.
	Tags TagLister
	Policy
}

// pinWorkers bounds the lookups run at once. The resolver has its own,
// smaller bound on network requests; this one only keeps a file with
// thousands of references from starting thousands of goroutines.
const pinWorkers = 16

// Pin finds the references in a file, resolves them (concurrently, each
// distinct name:tag once) and returns the file with each reference pinned to
// its tag's digest. It is Update with the digest policy.
func Pin(ctx context.Context, path string, content []byte, r Resolver) (out []byte, changes []Change, failures []Failure, notes []Note) {
	return Update(ctx, path, content, Options{Resolver: r})
}

// PinRefs is Pin for references already found in content (by Find), for
// callers that also need the references themselves.
func PinRefs(ctx context.Context, content []byte, refs []Ref, r Resolver) (out []byte, changes []Change, failures []Failure) {
	out, changes, failures, _ = UpdateRefs(ctx, content, refs, Options{Resolver: r})
	return out, changes, failures
}

// Update finds the references in a file and returns the file with each
// moved to the tag the policy chooses (the same tag under UpdateDigest) and
// pinned to that tag's digest. A reference without a tag follows "latest".
// Only the bytes of references change; when nothing changes, out is content
// itself.
//
// changes and failures are in file order; notes are Find's and the
// policy's (ignored images). A reference already current is neither a
// change nor a failure.
func Update(ctx context.Context, path string, content []byte, opts Options) (out []byte, changes []Change, failures []Failure, notes []Note) {
	refs, notes := Find(path, content)
	out, changes, failures, ignored := UpdateRefs(ctx, content, refs, opts)
	notes = append(notes, ignored...)
	sort.SliceStable(notes, func(i, j int) bool { return notes[i].Line < notes[j].Line })
	return out, changes, failures, notes
}

// UpdateRefs is Update for references already found in content. notes
// lists the references the policy ignores.
func UpdateRefs(ctx context.Context, content []byte, refs []Ref, opts Options) (out []byte, changes []Change, failures []Failure, notes []Note) {
	refs, notes = opts.Policy.filter(refs)
	if len(refs) == 0 {
		return content, nil, nil, notes
	}
	targets, failed := targetTags(ctx, refs, opts)

	// Resolve each distinct name:tag once, in order of first appearance.
	var keys []string
	for i, ref := range refs {
		if failed[i] == nil {
			keys = append(keys, ref.Name+":"+targets[i])
		}
	}
	digests := parallel(keys, func(k string) lookupResult[string] {
		d, err := opts.Resolver.Digest(ctx, k)
		if err == nil && !digestRe.MatchString(d) {
			err = fmt.Errorf("resolver returned %q, which is not a digest", d)
		}
		return lookupResult[string]{d, err}
	})

	for i, ref := range refs {
		err := failed[i]
		if err == nil {
			if res := digests[ref.Name+":"+targets[i]]; res.err != nil {
				err = res.err
			} else if c, ok := ref.change(targets[i], res.val); ok {
				changes = append(changes, c)
			}
		}
		if err != nil {
			failures = append(failures, Failure{Ref: ref, Err: fmt.Errorf("%s %q: %w", ref.Source, ref.Text, err)})
		}
	}
	if len(changes) == 0 {
		return content, nil, failures, notes
	}
	return ApplyChanges(content, changes), changes, failures, notes
}

// targetTags returns the tag each reference moves to (its own under the
// digest policy) and, by index, the references whose tag list failed.
func targetTags(ctx context.Context, refs []Ref, opts Options) (targets []string, failed map[int]error) {
	targets = make([]string, len(refs))
	failed = map[int]error{}
	var repos []string
	for i, ref := range refs {
		targets[i] = ref.followedTag()
		if opts.moves(targets[i]) {
			repos = append(repos, ref.Name)
		}
	}
	if len(repos) == 0 {
		return targets, failed
	}
	lists := parallel(repos, func(repo string) lookupResult[[]string] {
		if opts.Tags == nil {
			return lookupResult[[]string]{nil, fmt.Errorf("update %q needs the registry's tag list, and no tag lister is configured", opts.Update)}
		}
		tags, err := opts.Tags.Tags(ctx, repo)
		return lookupResult[[]string]{tags, err}
	})
	for i, ref := range refs {
		if !opts.moves(targets[i]) {
			continue
		}
		res := lists[ref.Name]
		if res.err != nil {
			failed[i] = res.err
			continue
		}
		targets[i] = pickTag(targets[i], res.val, opts.Update)
	}
	return targets, failed
}

// moves reports whether a reference following tag may change tags.
func (o Options) moves(tag string) bool {
	return o.Update != "" && o.Update != UpdateDigest && isVersionTag(tag)
}

type lookupResult[T any] struct {
	val T
	err error
}

// parallel runs fn once for each distinct key, at most pinWorkers at once.
func parallel[T any](keys []string, fn func(string) T) map[string]T {
	results := map[string]T{}
	var distinct []string
	seen := map[string]bool{}
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			distinct = append(distinct, k)
		}
	}
	var mu sync.Mutex
	work := make(chan string)
	var wg sync.WaitGroup
	for w := 0; w < min(pinWorkers, len(distinct)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range work {
				v := fn(k)
				mu.Lock()
				results[k] = v
				mu.Unlock()
			}
		}()
	}
	for _, k := range distinct {
		work <- k
	}
	close(work)
	wg.Wait()
	return results
}

// ApplyChanges returns content with the edits of changes applied (all of
// them, or a subset such as the changes a person has not declined). Edits
// never overlap: each reference owns its bytes. A reference spread over
// several keys has several edits, so callers must apply changes through
// this and never splice Change.New over Ref.Start:End themselves.
func ApplyChanges(content []byte, changes []Change) []byte {
	if len(changes) == 0 {
		return content
	}
	var edits []Edit
	for _, c := range changes {
		edits = append(edits, c.Edits...)
	}
	sort.SliceStable(edits, func(i, j int) bool { return edits[i].Start < edits[j].Start })
	out := make([]byte, 0, len(content)+len(edits)*80)
	last := 0
	for _, e := range edits {
		if e.Start < last {
			continue // cannot happen; never write over a previous edit
		}
		out = append(out, content[last:e.Start]...)
		out = append(out, e.New...)
		last = e.End
	}
	return append(out, content[last:]...)
}
