package worktree

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"
	"sync"

	"github.com/tend-app/tend/reconcilers/changes"
)

// Tree is the in-memory overlay a run edits. It is safe for concurrent
// use (a model may ask for several calls at once); calls are serialized.
type Tree struct {
	src Source
	pol Policy

	mu    sync.Mutex
	base  map[string]Entry    // the starting tree (Source), by path
	order []string            // base paths, sorted
	blobs map[string][]byte   // fetched contents, by blob SHA (or "path:" + path)
	cur   map[string]*state   // paths whose content may differ from base
	dirs  map[string]int      // directory → number of live entries below it
	folds map[string][]string // foldName → every path and directory seen with it
	trace []Call
	stats Stats
	// reads are the starting-tree files whose content the run read, path
	// → blob SHA (a decline of the run's proposal lasts until one changes).
	reads map[string]string
}

// state is a path's content in this run, when it is not (or may not be)
// the base content.
type state struct {
	data    []byte
	deleted bool
}

// Call is one tool call, for the run's trace.
type Call struct {
	Name    string
	Path    string // the path, glob or pattern the call named (shortened)
	Outcome string // OutcomeOK, OutcomeRefused or OutcomeError
	Detail  string // a short description of the result or the reason
}

// Outcomes of a Call.
const (
	OutcomeOK      = "ok"
	OutcomeRefused = "refused"
	OutcomeError   = "error"
)

// Stats counts a run's tool calls and traffic.
type Stats struct {
	Calls, Refused, Errors int
	// Fetches and FetchedBytes count contents read from the Source.
	Fetches      int
	FetchedBytes int64
	// BytesRead is file text returned to the model (read_file and search).
	BytesRead int64
	// BytesWritten is content the model sent (write_file content,
	// edit_file new_text).
	BytesWritten int64
	// FilesChanged is the number of files that currently differ from the
	// starting tree.
	FilesChanged int
	// Hidden counts entries of the starting tree that the tools never show
	// because their paths fail CleanPath (backslashes, control characters).
	Hidden int
}

// ErrSource wraps failures of the Source (GitHub not answering, a blob
// that cannot be read). Call returns them as Go errors: the run should
// stop and be retried rather than continue on a partial view.
var ErrSource = errors.New("reading the repository failed")

// New lists src and returns a Tree starting from it. src may be an
// Overlay (a PR's files on top of the base tree); the Tree then starts
// from the overlay, and Changes is relative to it.
func New(ctx context.Context, src Source, pol Policy) (*Tree, error) {
	if src == nil {
		return nil, errors.New("worktree: no source")
	}
	if err := pol.Validate(); err != nil {
		return nil, fmt.Errorf("worktree: %w", err)
	}
	entries, err := src.Entries(ctx)
	if err != nil {
		return nil, fmt.Errorf("worktree: %w: %w", ErrSource, err)
	}
	t := &Tree{
		src:   src,
		pol:   pol.withDefaults(),
		base:  make(map[string]Entry, len(entries)),
		blobs: map[string][]byte{},
		cur:   map[string]*state{},
		dirs:  map[string]int{},
		folds: map[string][]string{},
		reads: map[string]string{},
	}
	for _, e := range entries {
		if c, err := CleanPath(e.Path); err != nil || c != e.Path {
			t.stats.Hidden++
			continue
		}
		if _, dup := t.base[e.Path]; dup {
			continue
		}
		t.base[e.Path] = e
		t.order = append(t.order, e.Path)
		t.addDirs(e.Path, 1)
		t.addFolds(e.Path)
	}
	sort.Strings(t.order)
	// A path that is both a file and a directory cannot come from git; an
	// overlay could produce one, and no write could be judged against it.
	for _, p := range t.order {
		if t.dirs[p] > 0 {
			return nil, fmt.Errorf("worktree: the starting tree has both a file and a directory named %q", p)
		}
	}
	return t, nil
}

// addDirs adjusts the live-entry counts of p's ancestors.
func (t *Tree) addDirs(p string, n int) {
	for i := len(p) - 1; i > 0; i-- {
		if p[i] == '/' {
			d := p[:i]
			t.dirs[d] += n
			if t.dirs[d] <= 0 {
				delete(t.dirs, d)
			}
		}
	}
}

// lookup returns what the current view has at p: a base entry (possibly
// with other content) or a file created in this run.
func (t *Tree) lookup(p string) (Entry, bool) {
	if s, ok := t.cur[p]; ok {
		if s.deleted {
			return Entry{}, false
		}
		if e, ok := t.base[p]; ok {
			return Entry{Path: p, Mode: e.Mode, Size: int64(len(s.data))}, true
		}
		return Entry{Path: p, Mode: ModeFile, Size: int64(len(s.data))}, true
	}
	e, ok := t.base[p]
	return e, ok
}

func (t *Tree) exists(p string) bool {
	_, ok := t.lookup(p)
	return ok
}

func (t *Tree) isDir(p string) bool { return t.dirs[p] > 0 }

// setContent makes p a file with data in the current view.
func (t *Tree) setContent(p string, data []byte) {
	if !t.exists(p) {
		t.addDirs(p, 1)
		t.addFolds(p)
	}
	t.cur[p] = &state{data: data}
}

// setDeleted removes p from the current view.
func (t *Tree) setDeleted(p string) {
	if t.exists(p) {
		t.addDirs(p, -1)
	}
	if _, inBase := t.base[p]; inBase {
		t.cur[p] = &state{deleted: true}
	} else {
		delete(t.cur, p)
	}
}

// structural refuses a write to p that the tree's shape forbids: p or a
// parent is a symbolic link or a submodule (in the starting tree or now),
// a parent is a file, p is a directory, or p or a parent would be a new
// name differing only in case or normalization from an existing one.
// Links are checked in the starting tree as well so that no sequence of
// calls can route a write through one.
func (t *Tree) structural(p string) error {
	for i := 0; i < len(p); i++ {
		if p[i] != '/' {
			continue
		}
		q := p[:i]
		if err := t.refuseEntries(q, throughRefusals); err != nil {
			return err
		}
		if e, ok := t.lookup(q); ok && e.regular() {
			return fmt.Errorf("%q is a file, so %q cannot be created under it", q, p)
		}
	}
	if err := t.refuseEntries(p, atRefusals); err != nil {
		return err
	}
	if t.isDir(p) {
		return fmt.Errorf("%q is a directory", p)
	}
	return t.collision(p)
}

// refusals are the messages (formats of the path, and of its mode for
// other) that refuse a write to or through a path that is not a regular
// file. An empty other lets such entries pass.
type refusals struct{ link, submodule, other string }

var (
	// throughRefusals refuse a write through a parent of its path.
	throughRefusals = refusals{
		link:      "%q is a symbolic link; nothing can be written through it",
		submodule: "%q is a submodule; its files are not part of this repository",
	}
	// atRefusals refuse a write to its path.
	atRefusals = refusals{
		link:      "%q is a symbolic link; links are neither written nor followed",
		submodule: "%q is a submodule; submodules are neither read nor written",
		other:     "%q has mode %s, which tend does not edit",
	}
)

// refuseEntries refuses p when its entry in the starting tree or now is a
// symbolic link, a submodule or (with why.other) another special file.
func (t *Tree) refuseEntries(p string, why refusals) error {
	for _, e := range []Entry{t.base[p], t.mustLookup(p)} {
		switch {
		case e.Path == "":
		case e.symlink():
			return refusef(why.link, p)
		case e.Mode == ModeSubmodule:
			return refusef(why.submodule, p)
		case !e.regular() && why.other != "":
			return refusef(why.other, p, e.Mode)
		}
	}
	return nil
}

func (t *Tree) mustLookup(p string) Entry {
	e, ok := t.lookup(p)
	if !ok {
		return Entry{}
	}
	e.Path = p
	return e
}

// budget says whether a fetch counts against the run's limits (tool
// calls) or not (Changes and the gate need base contents regardless).
type budget struct {
	limited bool
}

// content returns p's current content, fetching it from the Source if
// needed. The error is a refusal or tool error for the model, or wraps
// ErrSource.
func (t *Tree) content(ctx context.Context, p string, b budget) ([]byte, error) {
	if s, ok := t.cur[p]; ok {
		if s.deleted {
			return nil, fmt.Errorf("%q does not exist (deleted in this run)", p)
		}
		return s.data, nil
	}
	e, ok := t.base[p]
	if !ok {
		return nil, t.notFound(p)
	}
	return t.fetch(ctx, e, b)
}

// notFound explains a missing path, pointing at a link or submodule on the
// way when there is one.
func (t *Tree) notFound(p string) error {
	for i := 0; i < len(p); i++ {
		if p[i] != '/' {
			continue
		}
		if e, ok := t.lookup(p[:i]); ok {
			switch {
			case e.symlink():
				return refusef("%q does not exist: %q is a symbolic link, and links are not followed", p, p[:i])
			case e.Mode == ModeSubmodule:
				return refusef("%q is inside the submodule %q, whose files are not part of this repository", p, p[:i])
			}
		}
	}
	if t.isDir(p) {
		return fmt.Errorf("%q is a directory; use list_files to see its contents", p)
	}
	if s, ok := t.cur[p]; ok && s.deleted {
		return fmt.Errorf("%q does not exist (deleted in this run)", p)
	}
	return fmt.Errorf("%q does not exist", p)
}

// fetch reads a base entry's content once per run.
func (t *Tree) fetch(ctx context.Context, e Entry, b budget) ([]byte, error) {
	key := e.SHA
	if key == "" {
		key = "path:" + e.Path
	}
	if data, ok := t.blobs[key]; ok {
		t.noteRead(e)
		return data, nil
	}
	if e.Size > int64(t.pol.MaxSourceFileBytes) {
		return nil, refusef("%q is %d bytes; files over %d bytes are not read", e.Path, e.Size, t.pol.MaxSourceFileBytes)
	}
	if b.limited && t.stats.Fetches >= t.pol.MaxFetches {
		return nil, refusef("this run has read %d files from the repository, its limit; work with the files already read", t.stats.Fetches)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	data, err := t.src.Read(ctx, e)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, fmt.Errorf("%w: %w", ErrSource, err)
	}
	t.stats.Fetches++
	t.stats.FetchedBytes += int64(len(data))
	t.blobs[key] = data
	t.noteRead(e)
	return data, nil
}

func (t *Tree) noteRead(e Entry) {
	if e.SHA != "" {
		t.reads[e.Path] = e.SHA
	}
}

// Reads returns the files of the starting tree whose content the run read
// (with read_file, search, or to edit them), path → blob SHA.
func (t *Tree) Reads() map[string]string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return maps.Clone(t.reads)
}

// sameAsBase reports whether a state equals the starting tree at p,
// comparing blob SHAs when the tree gave one so that replacing a file
// needs no read of the original.
func (t *Tree) sameAsBase(ctx context.Context, p string, s *state) (bool, error) {
	e, ok := t.base[p]
	if !ok {
		return s.deleted, nil
	}
	if s.deleted {
		return false, nil
	}
	if !e.regular() {
		return false, nil
	}
	if len(e.SHA) == 40 {
		return strings.EqualFold(gitBlobSHA(s.data), e.SHA), nil
	}
	if e.Size > 0 && int64(len(s.data)) != e.Size {
		return false, nil
	}
	data, err := t.fetch(ctx, e, budget{})
	if err != nil {
		return false, err
	}
	return bytes.Equal(data, s.data), nil
}

// pending reports the change set's size if p had state s: the number of
// changed files and their total bytes.
func (t *Tree) pending(ctx context.Context, p string, s *state) (files int, total int64, err error) {
	count := func(q string, st *state) error {
		same, err := t.sameAsBase(ctx, q, st)
		if err != nil {
			return err
		}
		if !same {
			files++
			total += int64(len(st.data))
		}
		return nil
	}
	for q, st := range t.cur {
		if q == p {
			continue
		}
		if err := count(q, st); err != nil {
			return 0, 0, err
		}
	}
	if err := count(p, s); err != nil {
		return 0, 0, err
	}
	return files, total, nil
}

// commit applies a write (content or deletion) after checking the
// change-set limits, and drops states that equal the base again.
func (t *Tree) commit(ctx context.Context, p string, s *state) error {
	if !s.deleted && len(s.data) > t.pol.MaxFileBytes {
		return refusef("content is %d bytes; a file may have at most %d", len(s.data), t.pol.MaxFileBytes)
	}
	files, total, err := t.pending(ctx, p, s)
	if err != nil {
		return err
	}
	if files > t.pol.MaxFiles {
		return refusef("this run may change at most %d files, and this would be file %d", t.pol.MaxFiles, files)
	}
	if total > int64(t.pol.MaxTotalBytes) {
		return refusef("the changed files would total %d bytes; the limit is %d", total, t.pol.MaxTotalBytes)
	}
	if s.deleted {
		t.setDeleted(p)
	} else {
		t.setContent(p, s.data)
	}
	if same, err := t.sameAsBase(ctx, p, s); err == nil && same {
		delete(t.cur, p)
	}
	t.stats.FilesChanged = files
	return nil
}

// Changes returns every file whose final content differs from the
// starting tree, sorted by path, with its base content (fetched if the run
// never read it, which the change manager needs for its hashes).
func (t *Tree) Changes(ctx context.Context) ([]changes.FileChange, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.changes(ctx)
}

func (t *Tree) changes(ctx context.Context) ([]changes.FileChange, error) {
	paths := make([]string, 0, len(t.cur))
	for p := range t.cur {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var out []changes.FileChange
	for _, p := range paths {
		s := t.cur[p]
		same, err := t.sameAsBase(ctx, p, s)
		if err != nil {
			return nil, fmt.Errorf("worktree: compare %s: %w", p, err)
		}
		if same {
			continue
		}
		fc := changes.FileChange{Path: p, Delete: s.deleted}
		if !s.deleted {
			fc.Desired = append([]byte(nil), s.data...)
		}
		if e, ok := t.base[p]; ok && e.regular() {
			data, err := t.fetch(ctx, e, budget{})
			if err != nil {
				return nil, fmt.Errorf("worktree: read base of %s: %w", p, err)
			}
			fc.Base, fc.BaseExists = append([]byte(nil), data...), true
		}
		out = append(out, fc)
	}
	return out, nil
}

// Modes returns the git mode of every changed file that is not deleted:
// the starting tree's mode when the file existed (an executable stays
// 100755), ModeFile for new files. The change manager writes trees with
// these modes.
func (t *Tree) Modes() map[string]string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string]string{}
	for p, s := range t.cur {
		if s.deleted {
			continue
		}
		mode := ModeFile
		if e, ok := t.base[p]; ok && e.regular() {
			mode = e.Mode
		}
		out[p] = mode
	}
	return out
}

// Trace returns a copy of the tool calls so far.
func (t *Tree) Trace() []Call {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Call(nil), t.trace...)
}

// Stats returns the run's counters.
func (t *Tree) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stats
}

// Policy returns the policy the Tree enforces, with defaults filled in.
func (t *Tree) Policy() Policy { return t.pol }
