package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
)

// Defaults that apply when the file says nothing.
const (
	DefaultResync        = 24 * time.Hour
	MinResync            = 10 * time.Minute
	DefaultOpenPRLimit   = 10
	MaxOpenPRLimit       = 100
	DefaultLabel         = "tend"
	DefaultCIRounds      = 3
	MaxCIRounds          = 10
	ReconcilerImages     = "images"
	ReconcilerAgent      = "agent"
	ReleaseSelf          = "self"
	MaxFileSize          = 256 << 10
	maxRules             = 200
	maxGlobsPerRule      = 100
	maxPromptBytes       = 32 << 10
	maxLabels            = 10
	maxLabelLen          = 50
	maxReleaseSources    = 50
	maxIgnores           = 100
	currentSchemaVersion = 1
)

// Reconcilers lists the reconciler names a rule may use.
var Reconcilers = []string{ReconcilerImages, ReconcilerAgent}

// How far the images reconciler moves a tag (a rule's `update`).
const (
	// UpdateDigest pins the tag's current digest and never changes the tag.
	UpdateDigest = "digest"
	// UpdatePatch moves to the newest tag with the same major and minor.
	UpdatePatch = "patch"
	// UpdateMinor moves to the newest tag with the same major.
	UpdateMinor = "minor"
	// UpdateMajor moves to the newest tag.
	UpdateMajor = "major"
)

// UpdateModes lists the values of a rule's `update`, narrowest first.
var UpdateModes = []string{UpdateDigest, UpdatePatch, UpdateMinor, UpdateMajor}

// Config is a parsed, validated `.github/tend.yaml`.
type Config struct {
	Version      int
	PullRequests PullRequests
	Rules        []Rule
}

// PullRequests holds settings for the bot pull requests of a repository.
type PullRequests struct {
	// Limit is the most tend PRs open at once in the repository; keys over it
	// wait and are retried later.
	Limit int
	// Labels are applied to every bot PR when it is opened.
	Labels []string
}

// Rule maps paths of the repository to a reconciler.
type Rule struct {
	Name       string
	Reconciler string
	Paths      []string
	Prompt     string
	// Edits are the globs the agent may write to; empty means "only the
	// key's own path".
	Edits []string
	// CIRounds is how many times the agent is given the failing checks of
	// its PR before tend asks a person (ci_rounds; 0: never).
	CIRounds int
	// Update is how far the images reconciler moves tags: one of
	// UpdateModes, UpdateDigest when the file says nothing.
	Update string
	// Ignore lists image names or globs ("ghcr.io/acme/*") the images
	// reconciler never touches.
	Ignore []string
	On     Triggers
	// Line is where the rule starts in the file, for error reports.
	Line int
}

// Triggers says which events enqueue a rule's keys.
type Triggers struct {
	// Push: pushes to the default branch that touch a matched path.
	Push bool
	// Resync is the period of the periodic resync; 0 means off.
	Resync time.Duration
	// Release lists repositories ("owner/name", or "self") whose published
	// releases trigger the rule. Names are lower-cased.
	Release []string
	// IssueLabel, when set, makes issues carrying this label requests for
	// the rule.
	IssueLabel string
}

// Rule returns the rule with the given name.
func (c *Config) Rule(name string) (Rule, bool) {
	for _, r := range c.Rules {
		if r.Name == name {
			return r, true
		}
	}
	return Rule{}, false
}

// Matches reports whether path is matched by one of the rule's globs.
func (r Rule) Matches(path string) bool {
	return matchAny(r.Paths, path)
}

// MayEdit reports whether the rule allows writing path when reconciling the
// key whose own path is keyPath (empty for issue keys).
func (r Rule) MayEdit(keyPath, path string) bool {
	if len(r.Edits) == 0 {
		return keyPath != "" && path == keyPath
	}
	return matchAny(r.Edits, path)
}

// ReleaseSources resolves the rule's release subscriptions for the
// repository fullName ("owner/name"), turning "self" into fullName.
func (r Rule) ReleaseSources(fullName string) []string {
	out := make([]string, 0, len(r.On.Release))
	for _, s := range r.On.Release {
		if s == ReleaseSelf {
			s = strings.ToLower(fullName)
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// SubscribesTo reports whether published releases of fullName trigger the
// rule of the repository self.
func (r Rule) SubscribesTo(self, fullName string) bool {
	return slices.Contains(r.ReleaseSources(self), strings.ToLower(fullName))
}

// RulesFor returns the rules whose paths match path.
func (c *Config) RulesFor(path string) []Rule {
	var out []Rule
	for _, r := range c.Rules {
		if r.Matches(path) {
			out = append(out, r)
		}
	}
	return out
}

func matchAny(globs []string, path string) bool {
	for _, g := range globs {
		// Patterns are validated when parsed, so an error cannot happen here;
		// treat it as no match rather than trusting it.
		if ok, err := doublestar.Match(g, path); err == nil && ok {
			return true
		}
	}
	return false
}

// Error is one problem in a config file, with its position.
type Error struct {
	File   string
	Line   int
	Column int
	Msg    string
}

func (e Error) Error() string {
	switch {
	case e.Line > 0 && e.Column > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Errors is every problem found in a config file, in file order.
type Errors []Error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}
