package keys

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxLen bounds the length of a key's string form. Git allows longer paths,
// but a key also becomes a branch name, a queue row and a log field; nothing
// tend manages legitimately needs more.
const MaxLen = 1024

// Kind says what a key names.
type Kind int

const (
	// KindRepo is a whole repository: reload its config and resync every rule.
	KindRepo Kind = iota + 1
	// KindRule is one rule in a repository: list its paths and enqueue them.
	KindRule
	// KindPath is one path reconciled by one rule.
	KindPath
	// KindIssue is one issue that a rule handles as a request.
	KindIssue
)

func (k Kind) String() string {
	switch k {
	case KindRepo:
		return "repo"
	case KindRule:
		return "rule"
	case KindPath:
		return "path"
	case KindIssue:
		return "issue"
	}
	return "invalid"
}

// Key is one unit of work. The zero value is invalid; build keys with the
// constructors or Parse, which validate.
type Key struct {
	Owner string // lower-case GitHub owner login
	Repo  string // lower-case repository name
	Rule  string // rule name from .github/tend.yaml; empty for KindRepo
	Path  string // clean repository-relative path; only for KindPath
	Issue int    // issue number; only for KindIssue
}

// ConfigRule is the rule name reserved for tend's own check of the config
// a pull request proposes: owner/repo:tend-config#12 checks the
// .github/tend.yaml of pull request 12. The config parser refuses it as a
// rule name.
const ConfigRule = "tend-config"

var (
	ownerRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,38})$`)
	repoRE  = regexp.MustCompile(`^[a-z0-9._-]{1,100}$`)
	// RuleNameRE is the grammar of rule names, shared with the config parser.
	RuleNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
)

// ForRepo returns the key that resyncs a whole repository.
func ForRepo(owner, repo string) (Key, error) {
	k := Key{Owner: strings.ToLower(owner), Repo: strings.ToLower(repo)}
	return k, k.Validate()
}

// ForRule returns the key that resyncs one rule of a repository.
func ForRule(owner, repo, rule string) (Key, error) {
	k := Key{Owner: strings.ToLower(owner), Repo: strings.ToLower(repo), Rule: rule}
	return k, k.Validate()
}

// ForPath returns the key for one path under one rule.
func ForPath(owner, repo, rule, path string) (Key, error) {
	k := Key{Owner: strings.ToLower(owner), Repo: strings.ToLower(repo), Rule: rule, Path: path}
	return k, k.Validate()
}

// ForIssue returns the key for one issue handled by one rule.
func ForIssue(owner, repo, rule string, issue int) (Key, error) {
	k := Key{Owner: strings.ToLower(owner), Repo: strings.ToLower(repo), Rule: rule, Issue: issue}
	return k, k.Validate()
}

// Kind reports what the key names.
func (k Key) Kind() Kind {
	switch {
	case k.Rule == "":
		return KindRepo
	case k.Issue > 0:
		return KindIssue
	case k.Path != "":
		return KindPath
	default:
		return KindRule
	}
}

// FullName is the repository as "owner/repo".
func (k Key) FullName() string { return k.Owner + "/" + k.Repo }

// RepoKey is the key of the repository this key belongs to.
func (k Key) RepoKey() Key { return Key{Owner: k.Owner, Repo: k.Repo} }

// RuleKey is the key of the rule this key belongs to (itself for a rule key).
func (k Key) RuleKey() Key { return Key{Owner: k.Owner, Repo: k.Repo, Rule: k.Rule} }

// String is the canonical form, the inverse of Parse.
func (k Key) String() string {
	var b strings.Builder
	b.Grow(len(k.Owner) + len(k.Repo) + len(k.Rule) + len(k.Path) + 16)
	b.WriteString(k.Owner)
	b.WriteByte('/')
	b.WriteString(k.Repo)
	if k.Rule == "" {
		return b.String()
	}
	b.WriteByte(':')
	b.WriteString(k.Rule)
	switch {
	case k.Issue > 0:
		b.WriteByte('#')
		b.WriteString(strconv.Itoa(k.Issue))
	case k.Path != "":
		b.WriteByte(':')
		b.WriteString(k.Path)
	}
	return b.String()
}

// Validate checks every part of the key against GitHub's and tend's grammar.
func (k Key) Validate() error {
	if !ownerRE.MatchString(k.Owner) {
		return fmt.Errorf("invalid owner %q", k.Owner)
	}
	if !repoRE.MatchString(k.Repo) || k.Repo == "." || k.Repo == ".." {
		return fmt.Errorf("invalid repository name %q", k.Repo)
	}
	if k.Rule == "" {
		if k.Path != "" || k.Issue != 0 {
			return errors.New("a path or issue needs a rule")
		}
		return nil
	}
	if !RuleNameRE.MatchString(k.Rule) {
		return fmt.Errorf("invalid rule name %q", k.Rule)
	}
	if k.Issue < 0 {
		return fmt.Errorf("invalid issue number %d", k.Issue)
	}
	if k.Issue > 0 && k.Path != "" {
		return errors.New("a key names a path or an issue, not both")
	}
	if k.Path != "" {
		if err := ValidatePath(k.Path); err != nil {
			return err
		}
	}
	if n := len(k.String()); n > MaxLen {
		return fmt.Errorf("key is %d bytes long, the limit is %d", n, MaxLen)
	}
	return nil
}

// ValidatePath checks that p is a clean, relative path inside a repository:
// no leading slash, no empty, "." or ".." segments, no NUL or control
// characters, valid UTF-8, and nothing under .git.
func ValidatePath(p string) error {
	if p == "" {
		return errors.New("empty path")
	}
	if !utf8.ValidString(p) {
		return fmt.Errorf("path %q is not valid UTF-8", p)
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("path %q contains a control character", p)
		}
	}
	if strings.HasPrefix(p, "/") {
		return fmt.Errorf("path %q is absolute", p)
	}
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "":
			return fmt.Errorf("path %q has an empty segment", p)
		case ".", "..":
			return fmt.Errorf("path %q is not clean", p)
		}
		if strings.EqualFold(seg, ".git") {
			return fmt.Errorf("path %q is inside .git", p)
		}
	}
	return nil
}

// Parse reads a key's canonical string form.
func Parse(s string) (Key, error) {
	if len(s) > MaxLen {
		return Key{}, fmt.Errorf("key is %d bytes long, the limit is %d", len(s), MaxLen)
	}
	slash := strings.IndexByte(s, '/')
	if slash < 0 {
		return Key{}, fmt.Errorf("key %q: want owner/repo[:rule[:path|#issue]]", s)
	}
	k := Key{Owner: s[:slash]}
	rest := s[slash+1:]
	colon := strings.IndexByte(rest, ':')
	if colon < 0 {
		k.Repo = rest
	} else {
		k.Repo = rest[:colon]
		rest = rest[colon+1:]
		if rest == "" || rest[0] == ':' || rest[0] == '#' {
			return Key{}, fmt.Errorf("key %q: empty rule name", s)
		}
		end := strings.IndexAny(rest, ":#")
		if end < 0 {
			k.Rule = rest
		} else {
			k.Rule = rest[:end]
			tail := rest[end+1:]
			if rest[end] == ':' {
				if tail == "" {
					return Key{}, fmt.Errorf("key %q: empty path", s)
				}
				k.Path = tail
			} else {
				n, err := strconv.Atoi(tail)
				if err != nil || n <= 0 || strconv.Itoa(n) != tail {
					return Key{}, fmt.Errorf("key %q: invalid issue number %q", s, tail)
				}
				k.Issue = n
			}
		}
	}
	if err := k.Validate(); err != nil {
		return Key{}, fmt.Errorf("key %q: %w", s, err)
	}
	return k, nil
}

// MustParse is Parse for constants in tests and examples; it panics on error.
func MustParse(s string) Key {
	k, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return k
}
