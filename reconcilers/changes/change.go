package changes

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"

	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/config"
	"github.com/tend-app/tend/internal/keys"
)

// Change is what a reconciler wants for one key: the desired content of
// the files the key owns, and the words that explain it.
type Change struct {
	Key  keys.Key
	Rule string
	// PullRequests are the repository's settings (limit, labels).
	PullRequests config.PullRequests
	// Base is the base branch the files were read at.
	Base Base
	// Files are the files the key owns, with their content at Base and
	// their desired content. A file whose desired content equals its base
	// content needs no change.
	Files []FileChange
	// Title is the PR title; Summary says what changes and why, in
	// Markdown (the PR body and the check run summary); Details is the
	// check run's text (per-file notes).
	Title   string
	Summary string
	Details string
	// Trigger says what started the run ("push", "resync", "issue #4", ...).
	Trigger string
	// Annotations point at lines, for the check run.
	Annotations []Annotation
	// Warnings are partial failures (an image that could not be resolved):
	// the change still lands, and the check run is neutral and lists them.
	Warnings []string
	// Fixes names an issue the PR resolves ("Fixes #N" in the body).
	Fixes int
	// Incomplete says the desired state could not be fully computed (an
	// image registry did not answer). An open PR is then never closed as
	// resolved on the strength of it.
	Incomplete bool
	// Extra is bookkeeping a reconciler keeps in the PR's state block.
	Extra map[string]string
	// Fresh asks for a check run on the PR head even when nothing changed;
	// Recreate asks to regenerate the PR from the base branch over commits
	// people pushed, and to propose a declined change again (see
	// reconcilers.Steering).
	Fresh, Recreate bool
	// Proposal is what the change proposes, in the terms a person's
	// decline is remembered in (kept in the PR's state block); nil stands
	// for the desired-state hash.
	Proposal *botpr.Proposal
	// Withheld counts the parts of the desired state the reconciler left
	// out because people declined them (see Prior).
	Withheld int
	// Prior is the Manager.Prior the reconciler read, if any; Apply reads
	// it again when nil.
	Prior *Prior
	// Feedback, when set, replaces the feedback record of the PR's state
	// block (otherwise an update keeps it); CIRounds is the rule's
	// ci_rounds, shown with it in the check run.
	Feedback *botpr.Feedback
	CIRounds int
}

// FileChange is one file of a Change.
type FileChange struct {
	Path string
	// Base is the content at Change.Base; BaseExists is false for a file
	// that does not exist there.
	Base       []byte
	BaseExists bool
	// Desired is the wanted content; Delete asks for the file to be removed.
	Desired []byte
	Delete  bool
	// Note is a line about this file for the check run.
	Note string
	// Mode is the Git file mode to write ("100644" when empty; "100755"
	// keeps an edited script executable).
	Mode string
}

// Differs reports whether the file needs a change.
func (f FileChange) Differs() bool {
	if f.Delete {
		return f.BaseExists
	}
	return !f.BaseExists || !bytes.Equal(f.Base, f.Desired)
}

// Annotation marks a line of a file in the check run.
type Annotation struct {
	Path      string
	StartLine int
	EndLine   int
	// StartColumn and EndColumn (1-based) narrow a one-line annotation;
	// GitHub ignores columns on annotations spanning lines.
	StartColumn, EndColumn int
	Level                  string // notice, warning or failure
	Title                  string
	Message                string
}

// differing returns the files that need a change, sorted by path.
func (c *Change) differing() []FileChange {
	var out []FileChange
	for _, f := range c.Files {
		if f.Differs() {
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// desiredHash identifies the desired state of the key's files: the same
// files with the same content hash the same, whatever the base.
func (c *Change) desiredHash() string {
	return c.hashFiles(func(f FileChange) ([]byte, bool) { return f.Desired, !f.Delete })
}

// baseHash identifies the base content of the key's files, to tell whether
// a PR was generated from content that has since changed.
func (c *Change) baseHash() string {
	return c.hashFiles(func(f FileChange) ([]byte, bool) { return f.Base, f.BaseExists })
}

// hashFiles hashes each file's path and the content content picks (or its
// absence), in path order.
func (c *Change) hashFiles(content func(FileChange) ([]byte, bool)) string {
	files := append([]FileChange(nil), c.Files...)
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	h := sha256.New()
	for _, f := range files {
		h.Write([]byte(f.Path))
		h.Write([]byte{0})
		if b, ok := content(f); ok {
			h.Write([]byte{1})
			sum := sha256.Sum256(b)
			h.Write(sum[:])
		}
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// DescribeTrigger says in words what started a run, for PR bodies and
// check runs.
func DescribeTrigger(t string) string {
	switch {
	case t == "" || t == "resync":
		return "the periodic resync"
	case strings.HasPrefix(t, "push:"):
		return "a push to the default branch"
	case strings.HasPrefix(t, "release:"):
		return "the release " + strings.TrimPrefix(t, "release:")
	case strings.HasPrefix(t, "issues:"), strings.HasPrefix(t, "issue_comment"):
		return "the issue"
	case strings.HasPrefix(t, "registry_package"), strings.HasPrefix(t, "package"):
		return "a package published to a registry"
	case strings.HasPrefix(t, "installation"):
		return "the App's installation"
	case CITrigger(t):
		return "checks on the pull request"
	case strings.HasPrefix(t, "pull_request_review"):
		return "a review of the pull request"
	case t == "manual":
		return "an operator"
	}
	if len(t) > 80 {
		t = t[:80]
	}
	return "`" + strings.ReplaceAll(t, "`", "'") + "`"
}

// CITrigger reports whether a trigger is another app's check or status
// finishing (not a click on one of tend's own check runs).
func CITrigger(t string) bool {
	for _, p := range []string{"check_run:failure", "check_run:timed_out", "check_run:startup_failure", "check_suite:", "status:", "workflow_run:"} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}
