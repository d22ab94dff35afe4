package images

import (
	"context"
	"fmt"
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

// Change is one rewritten reference.
type Change struct {
	Ref Ref
	// Old is Ref.Text; New is what replaced it, "name:tag@digest".
	Old, New string
}

// Failure is a reference that could not be resolved. It is left as it was;
// the other references of the file are still pinned.
type Failure struct {
	Ref Ref
	Err error
}

// pinWorkers bounds the lookups Pin runs at once. The resolver has its own,
// smaller bound on network requests; this one only keeps a file with
// thousands of references from starting thousands of goroutines.
const pinWorkers = 16

// Pin finds the references in a file, resolves them (concurrently, each
// distinct name:tag once) and returns the file with each reference replaced
// by "name:tag@digest". A reference without a tag follows "latest" and is
// written "name:latest@digest". Only the reference bytes change; when nothing
// changes, out is content itself.
//
// changes and failures are in file order; notes are Find's. A reference whose
// digest is already current is neither a change nor a failure.
func Pin(ctx context.Context, path string, content []byte, r Resolver) (out []byte, changes []Change, failures []Failure, notes []Note) {
	refs, notes := Find(path, content)
	out, changes, failures = PinRefs(ctx, content, refs, r)
	return out, changes, failures, notes
}

// PinRefs is Pin for references already found in content (by Find), for
// callers that also need the references themselves.
func PinRefs(ctx context.Context, content []byte, refs []Ref, r Resolver) (out []byte, changes []Change, failures []Failure) {
	if len(refs) == 0 {
		return content, nil, nil
	}

	// Resolve each distinct key once, in order of first appearance.
	type result struct {
		digest string
		err    error
	}
	var keys []string
	results := map[string]*result{}
	for _, ref := range refs {
		k := ref.ResolveKey()
		if results[k] == nil {
			results[k] = &result{}
			keys = append(keys, k)
		}
	}
	work := make(chan string)
	var wg sync.WaitGroup
	for w := 0; w < min(pinWorkers, len(keys)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range work {
				res := results[k] // each key is written by one worker only
				res.digest, res.err = r.Digest(ctx, k)
				if res.err == nil && !digestRe.MatchString(res.digest) {
					res.err = fmt.Errorf("resolver returned %q, which is not a digest", res.digest)
				}
			}
		}()
	}
	for _, k := range keys {
		work <- k
	}
	close(work)
	wg.Wait()

	out = make([]byte, 0, len(content)+len(refs)*80)
	last := 0
	for _, ref := range refs {
		res := results[ref.ResolveKey()]
		if res.err != nil {
			failures = append(failures, Failure{Ref: ref, Err: fmt.Errorf("%s %q: %w", ref.Source, ref.Text, res.err)})
			continue
		}
		nw := ref.ResolveKey() + "@" + res.digest
		if nw == ref.Text {
			continue
		}
		out = append(out, content[last:ref.Start]...)
		out = append(out, nw...)
		last = ref.End
		changes = append(changes, Change{Ref: ref, Old: ref.Text, New: nw})
	}
	if len(changes) == 0 {
		return content, nil, failures
	}
	out = append(out, content[last:]...)
	return out, changes, failures
}
