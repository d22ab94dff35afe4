package config

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-github/v89/github"
	"github.com/palantir/go-githubapp/appconfig"
)

// Path is where a repository keeps its config.
const Path = ".github/tend.yaml"

// paths are tried in order; the .yml spelling is accepted because people
// write it, and the first one found wins.
var paths = []string{Path, ".github/tend.yml"}

// Loaded is the outcome of loading a repository's config.
type Loaded struct {
	// Config is nil when the repository is not managed or the file is invalid.
	Config *Config
	// Source is "owner/repo@ref" of the file that was read (it may be the
	// owner's .github repository or a remote reference); Path is its path.
	Source string
	Path   string
	// Raw is the file as read, for hashing and the database cache.
	Raw []byte
	// Invalid holds the problems of an invalid file. Nothing runs for a
	// repository whose config is invalid until it is fixed.
	Invalid Errors
}

// Managed reports whether tend manages the repository: a valid config exists.
func (l *Loaded) Managed() bool { return l != nil && l.Config != nil }

// Loader reads `.github/tend.yaml` through the GitHub API.
type Loader struct {
	ld *appconfig.Loader
}

// NewLoader returns a Loader that also reads the org-wide default
// (`tend.yaml` in the owner's `.github` repository) and follows remote
// references.
func NewLoader() *Loader {
	return &Loader{ld: appconfig.NewLoader(paths, appconfig.WithOwnerDefault(".github", []string{"tend.yaml", "tend.yml"}))}
}

// Load reads and parses the config of owner/repo at ref (empty: the default
// branch). A missing file is a Loaded with a nil Config and no error; an
// invalid file is a Loaded with Invalid set and no error; an error means the
// config could not be read (network, permissions) and the caller should try
// again later.
func (l *Loader) Load(ctx context.Context, client *github.Client, owner, repo, ref string) (*Loaded, error) {
	c, err := l.ld.LoadConfig(ctx, client, owner, repo, ref)
	if err != nil {
		if isRemoteRefError(err) {
			return &Loaded{Source: c.Source, Path: c.Path, Invalid: Errors{{File: c.Path, Msg: err.Error()}}}, nil
		}
		return nil, fmt.Errorf("load %s from %s: %w", c.Path, c.Source, err)
	}
	if c.IsUndefined() {
		return &Loaded{}, nil
	}
	out := &Loaded{Source: c.Source, Path: c.Path, Raw: c.Content}
	cfg, perr := Parse(c.Path, c.Content)
	if perr != nil {
		var errs Errors
		if !errors.As(perr, &errs) {
			errs = Errors{{File: c.Path, Msg: perr.Error()}}
		}
		out.Invalid = errs
		return out, nil
	}
	out.Config = cfg
	return out, nil
}

// isRemoteRefError reports errors that come from the file's content (a bad
// or dangling remote reference) rather than from reading it.
func isRemoteRefError(err error) bool {
	var gh *github.ErrorResponse
	if errors.As(err, &gh) {
		return false
	}
	msg := err.Error()
	return strings.HasPrefix(msg, "invalid remote reference") || strings.HasPrefix(msg, "invalid remote value")
}
