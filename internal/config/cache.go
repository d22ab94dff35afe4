package config

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-github/v89/github"
	"github.com/hashicorp/golang-lru/v2/expirable"
)

// Record is the cached form of a repository's config, as kept in the
// database shared by every replica.
type Record struct {
	Repo           string // lower-case owner/name
	InstallationID int64
	Managed        bool
	Source, Path   string
	Raw            []byte
	Errors         string // an invalid config's problems, one per line
	LoadedAt       time.Time
}

// Persister stores Records; the store package implements it and rebuilds
// the rule index (resync schedule, release subscriptions) on every save.
type Persister interface {
	SaveRepo(ctx context.Context, rec Record, cfg *Config) error
	GetRepo(ctx context.Context, repo string) (Record, bool, error)
}

// Cache serves repository configs to the webhook handlers and workers from
// memory, then the database, then GitHub. A config is re-read from the
// database after a minute in memory (another replica may have refreshed
// it) and from GitHub after MaxAge, besides the explicit Refresh on a push
// that touches it. Reads from GitHub go through the conditional-request
// cache, so an unchanged file costs a 304.
type Cache struct {
	Loader *Loader
	Store  Persister
	MaxAge time.Duration

	mem *expirable.LRU[string, *Loaded] // lower-case owner/name → config
	now func() time.Time
}

// Bounds of the memory layer: a miss only costs a database read.
const (
	memoryTTL     = time.Minute
	memoryEntries = 10000
)

// NewCache returns a Cache with the default ages: one minute in memory,
// one hour before a background reload from GitHub.
func NewCache(loader *Loader, st Persister) *Cache {
	return &Cache{Loader: loader, Store: st, MaxAge: time.Hour, mem: expirable.NewLRU[string, *Loaded](memoryEntries, nil, memoryTTL), now: time.Now}
}

// ClientFunc returns a GitHub client for the repository's installation; it
// is only called when the config must be read from GitHub.
type ClientFunc func() (*github.Client, error)

// Get returns the config of owner/repo.
func (c *Cache) Get(ctx context.Context, owner, repo string, installationID int64, client ClientFunc) (*Loaded, error) {
	full := strings.ToLower(owner + "/" + repo)
	if l, ok := c.mem.Get(full); ok {
		return l, nil
	}
	now := c.now()
	rec, found, err := c.Store.GetRepo(ctx, full)
	if err != nil {
		return nil, err
	}
	if found && now.Sub(rec.LoadedAt) < c.MaxAge {
		l := fromRecord(rec)
		c.mem.Add(full, l)
		return l, nil
	}
	l, _, err := c.Refresh(ctx, owner, repo, installationID, client)
	return l, err
}

// Refresh reads the config from GitHub, saves it (rebuilding the rule
// index) and returns it. changed reports whether it differs from what was
// cached before (a repository seen for the first time counts as changed).
func (c *Cache) Refresh(ctx context.Context, owner, repo string, installationID int64, client ClientFunc) (l *Loaded, changed bool, err error) {
	full := strings.ToLower(owner + "/" + repo)
	gh, err := client()
	if err != nil {
		return nil, false, fmt.Errorf("github client for %s: %w", full, err)
	}
	l, err = c.Loader.Load(ctx, gh, owner, repo, "")
	if err != nil {
		return nil, false, err
	}
	rec := Record{Repo: full, InstallationID: installationID, Managed: l.Managed(), Source: l.Source, Path: l.Path, Raw: l.Raw}
	if len(l.Invalid) > 0 {
		rec.Errors = l.Invalid.Error()
	}
	prev, found, err := c.Store.GetRepo(ctx, full)
	if err != nil {
		return nil, false, err
	}
	changed = !found || !bytes.Equal(prev.Raw, rec.Raw) || prev.Source != rec.Source || prev.Path != rec.Path || prev.Errors != rec.Errors
	if err := c.Store.SaveRepo(ctx, rec, l.Config); err != nil {
		return nil, false, err
	}
	c.mem.Add(full, l)
	return l, changed, nil
}

// Invalidate drops the memory copy of a repository's config.
func (c *Cache) Invalidate(owner, repo string) {
	c.mem.Remove(strings.ToLower(owner + "/" + repo))
}

// fromRecord rebuilds a Loaded from its cached form. The raw file is parsed
// again rather than trusting anything derived from it.
func fromRecord(rec Record) *Loaded {
	l := &Loaded{Source: rec.Source, Path: rec.Path, Raw: rec.Raw}
	if len(rec.Raw) == 0 {
		if rec.Errors != "" { // a dangling remote reference: nothing to parse
			l.Invalid = Errors{{File: rec.Path, Msg: rec.Errors}}
		}
		return l
	}
	cfg, err := Parse(rec.Path, rec.Raw)
	if err != nil {
		if errs, ok := err.(Errors); ok {
			l.Invalid = errs
		} else {
			l.Invalid = Errors{{File: rec.Path, Msg: err.Error()}}
		}
		return l
	}
	l.Config = cfg
	return l
}
