package worktree

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/tend-app/tend/internal/keys"
)

// Default limits, used where a Policy field is zero or negative.
const (
	DefaultMaxFileBytes       = 1 << 20  // bytes of one changed file
	DefaultMaxTotalBytes      = 4 << 20  // bytes of all changed files together
	DefaultMaxFiles           = 50       // files changed in one run
	DefaultMaxReadBytes       = 64 << 10 // text returned by one read_file call
	DefaultMaxListResults     = 500      // paths returned by one list_files call
	DefaultMaxSearchResults   = 100      // matching lines returned by one search call
	DefaultMaxSearchBytes     = 16 << 20 // file bytes scanned by one search call
	DefaultMaxSearchFetches   = 200      // files one search call may fetch from the Source
	DefaultMaxFetches         = 1000     // files fetched from the Source in one run
	DefaultMaxSourceFileBytes = 10 << 20 // larger files are not fetched at all
)

// Hard limits on what a path argument may look like. Git allows longer
// paths, but tend's keys stop at 1024 bytes and no file it manages needs
// more; the raw bound stops a huge string before any work is done on it.
const (
	maxPathBytes    = 1024
	maxSegmentBytes = 255
	maxRawPathBytes = 4096
)

// Policy says what a run may write and how much it may read and write.
type Policy struct {
	// KeyPath is the key's own path; "" for issue keys.
	KeyPath string
	// Edits are the rule's edits globs (doublestar, relative to the
	// repository root). Empty: only KeyPath is writable (nothing for an
	// issue key).
	Edits []string

	// Limits on the change set (checked by the write tools and the gate).
	MaxFileBytes  int // bytes of one changed file
	MaxTotalBytes int // bytes of all changed files together
	MaxFiles      int // number of files changed (created, modified or deleted)

	// Limits on one tool call.
	MaxReadBytes     int // text returned by read_file
	MaxListResults   int // paths returned by list_files
	MaxSearchResults int // lines returned by search
	MaxSearchBytes   int // file bytes scanned by search
	MaxSearchFetches int // files search may fetch from the Source

	// Limits on reading the Source in one run. Fetches cost API requests
	// (GitHub's budget is 5,000 an hour per installation), so a model that
	// wanders through a large repository is stopped with a tool error.
	MaxFetches         int // files fetched, over the run
	MaxSourceFileBytes int // files larger than this are never fetched
}

// withDefaults fills zero (or negative) limits.
func (p Policy) withDefaults() Policy {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&p.MaxFileBytes, DefaultMaxFileBytes)
	def(&p.MaxTotalBytes, DefaultMaxTotalBytes)
	def(&p.MaxFiles, DefaultMaxFiles)
	def(&p.MaxReadBytes, DefaultMaxReadBytes)
	def(&p.MaxListResults, DefaultMaxListResults)
	def(&p.MaxSearchResults, DefaultMaxSearchResults)
	def(&p.MaxSearchBytes, DefaultMaxSearchBytes)
	def(&p.MaxSearchFetches, DefaultMaxSearchFetches)
	def(&p.MaxFetches, DefaultMaxFetches)
	def(&p.MaxSourceFileBytes, DefaultMaxSourceFileBytes)
	return p
}

// Validate reports an edits glob that is not a valid pattern, or a key
// path that is not a clean repository path. Such a glob would silently
// match nothing, so New refuses it instead.
func (p Policy) Validate() error {
	for _, g := range p.Edits {
		if g == "" || !doublestar.ValidatePattern(g) {
			return fmt.Errorf("edits glob %q is not a valid pattern", g)
		}
	}
	if p.KeyPath != "" {
		if c, err := CleanPath(p.KeyPath); err != nil {
			return fmt.Errorf("key path: %w", err)
		} else if c != p.KeyPath {
			return fmt.Errorf("key path %q is not clean (want %q)", p.KeyPath, c)
		}
	}
	return nil
}

// errRefused marks a decision of the confinement (as opposed to a tool
// that failed on valid input); the trace records these as "refused".
var errRefused = errors.New("refused")

type refusal struct{ msg string }

func (r *refusal) Error() string        { return r.msg }
func (r *refusal) Is(target error) bool { return target == errRefused }

func refusef(format string, args ...any) error {
	return &refusal{msg: fmt.Sprintf(format, args...)}
}

// IsRefused reports whether err is a confinement decision (a path or
// write the policy does not allow) rather than an ordinary failure.
func IsRefused(err error) bool { return errors.Is(err, errRefused) }

// CleanPath turns a path argument into a clean repository-relative path,
// or refuses it. "." segments, duplicate slashes and a trailing slash are
// cleaned away; anything that could leave the repository or reach git's
// own files is refused rather than repaired, so the model learns the rule
// instead of having its intent guessed: absolute paths, ".." segments
// (even ones that would stay inside, like "a/../b"), backslashes, NUL and
// control characters, invalid UTF-8, over-long paths, and .git in any case
// or spelling.
func CleanPath(p string) (string, error) {
	if len(p) > maxRawPathBytes {
		return "", refusef("path is %d bytes long; the limit is %d", len(p), maxPathBytes)
	}
	if p == "" {
		return "", refusef("empty path")
	}
	if strings.IndexByte(p, 0) >= 0 {
		return "", refusef("path %q contains a NUL byte", p)
	}
	if !utf8.ValidString(p) {
		return "", refusef("path %q is not valid UTF-8", p)
	}
	if strings.ContainsRune(p, '\\') {
		return "", refusef("path %q contains a backslash; separate directories with /", p)
	}
	if strings.HasPrefix(p, "/") {
		return "", refusef("path %q is absolute; paths are relative to the repository root", p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return "", refusef("path %q contains \"..\"; paths may not leave or climb out of directories", p)
		}
	}
	c := path.Clean(p)
	if c == "." {
		return "", refusef("path %q names the repository root, not a file", p)
	}
	if len(c) > maxPathBytes {
		return "", refusef("path is %d bytes long; the limit is %d", len(c), maxPathBytes)
	}
	for _, seg := range strings.Split(c, "/") {
		if len(seg) > maxSegmentBytes {
			return "", refusef("path %q has a component longer than %d bytes", c, maxSegmentBytes)
		}
		if isDotGit(seg) {
			return "", refusef("path %q is inside .git; git's own files are never read or written", c)
		}
	}
	if err := keys.ValidatePath(c); err != nil {
		return "", refusef("%v", err)
	}
	return c, nil
}

// isDotGit reports whether a path segment would name the .git directory
// on some file system: ".git" in any case, with the trailing dots and
// spaces Windows ignores, "git~1" (its 8.3 short name), or with the
// code points HFS+ ignores. Git refuses all of these (protectNTFS,
// protectHFS); so does tend, in case a checkout happens on such a system.
func isDotGit(seg string) bool {
	var b strings.Builder
	for _, r := range seg {
		if hfsIgnorable(r) {
			continue
		}
		b.WriteRune(r)
	}
	s := strings.ToLower(strings.TrimRight(b.String(), ". "))
	return s == ".git" || s == "git~1"
}

// hfsIgnorable lists the code points HFS+ drops when comparing names
// (the same list as git's is_hfs_dotgit).
func hfsIgnorable(r rune) bool {
	switch {
	case r >= 0x200c && r <= 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x206a && r <= 0x206f, r == 0xfeff:
		return true
	}
	return false
}

// underWorkflows reports whether a clean path is .github/workflows or
// inside it, in any case: on a case-insensitive checkout ".GitHub/Workflows"
// is the same directory, so it gets the same protection.
func underWorkflows(p string) bool {
	segs := strings.SplitN(p, "/", 3)
	return len(segs) >= 2 && strings.EqualFold(segs[0], ".github") && strings.EqualFold(segs[1], "workflows")
}

// namesWorkflows reports whether an edits glob names .github/workflows
// literally: its first two segments are ".github" and "workflows" without
// wildcards. A glob that merely happens to match workflows ("**",
// ".github/**", ".github/w*/*") does not count: giving an agent the power
// to change CI must be written down on purpose.
func namesWorkflows(glob string) bool {
	segs := strings.SplitN(glob, "/", 3)
	if len(segs) < 2 {
		return false
	}
	for _, s := range segs[:2] {
		if strings.ContainsAny(s, `*?[]{}\`) {
			return false
		}
	}
	return strings.EqualFold(segs[0], ".github") && strings.EqualFold(segs[1], "workflows")
}

// WorkflowsAllowed reports whether edits globs let a rule change anything
// under .github/workflows at all: one of them must name the directory
// literally (see MayWrite).
func WorkflowsAllowed(edits []string) bool {
	for _, g := range edits {
		if namesWorkflows(g) {
			return true
		}
	}
	return false
}

// MayWrite is the confinement decision for a write (create, replace, edit
// or delete) of path, independent of the tree's content: the path must be
// clean and inside the repository, outside .git, inside the edits globs
// (the key's own path when there are none), and outside .github/workflows
// unless an edits glob names that directory literally. The error says why,
// in words meant for the model. Tree adds the checks that need the tree
// (symbolic links, submodules, directories).
func (p Policy) MayWrite(file string) error {
	c, err := CleanPath(file)
	if err != nil {
		return err
	}
	workflow := underWorkflows(c)
	if len(p.Edits) == 0 {
		switch {
		case p.KeyPath == "":
			return refusef("this run may not write any file (the rule has no edits globs and the request is not about a file)")
		case c != p.KeyPath:
			return refusef("path %q is outside what this run may write: only %q", c, p.KeyPath)
		case workflow:
			return refusef("path %q is under .github/workflows, which is writable only when the rule's edits name .github/workflows explicitly", c)
		}
		return nil
	}
	matched := false
	for _, g := range p.Edits {
		ok, err := doublestar.Match(g, c)
		if err != nil || !ok {
			continue
		}
		if workflow && !namesWorkflows(g) {
			continue
		}
		matched = true
		break
	}
	if !matched {
		if workflow && p.matchesAny(c) {
			return refusef("path %q is under .github/workflows, which is writable only when an edits glob names .github/workflows explicitly (e.g. \".github/workflows/*.yml\")", c)
		}
		return refusef("path %q is outside what this run may write (edits: %s)", c, strings.Join(quoteAll(p.Edits), ", "))
	}
	return nil
}

func (p Policy) matchesAny(c string) bool {
	for _, g := range p.Edits {
		if ok, _ := doublestar.Match(g, c); ok {
			return true
		}
	}
	return false
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}
