package images

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"golang.org/x/sync/singleflight"

	"github.com/tend-app/tend/internal/imagename"
)

// TagLister lists the tags of a repository, for update modes that move tags.
type TagLister interface {
	// Tags lists every tag of repo ("nginx", "ghcr.io/a/b"), in any order.
	// It must be safe for concurrent use.
	Tags(ctx context.Context, repo string) ([]string, error)
}

// Defaults for TagCache.
const (
	DefaultTagTTL   = 10 * time.Minute
	DefaultTagRepos = 4096
)

// TagCache shares tag lists across runs for a short time: a resync of an
// organisation reconciles many files naming the same few repositories, and
// each repository's tag list (several pages on busy repositories) is
// fetched once. Only successful answers are kept; concurrent requests for
// one repository share a fetch. Digests are not cached here: each run
// resolves them afresh, so a moved tag is seen at once.
type TagCache struct {
	lru   *expirable.LRU[string, []string]
	group singleflight.Group
}

// NewTagCache returns a cache of at most size repositories, each kept for
// ttl (the defaults when zero).
func NewTagCache(size int, ttl time.Duration) *TagCache {
	if size <= 0 {
		size = DefaultTagRepos
	}
	if ttl <= 0 {
		ttl = DefaultTagTTL
	}
	return &TagCache{lru: expirable.NewLRU[string, []string](size, nil, ttl)}
}

// Lister returns a TagLister that answers from the cache and asks src for
// what it lacks.
func (c *TagCache) Lister(src TagLister) TagLister {
	return cachedLister{cache: c, src: src}
}

type cachedLister struct {
	cache *TagCache
	src   TagLister
}

func (l cachedLister) Tags(ctx context.Context, repo string) ([]string, error) {
	key := imagename.Canonical(repo)
	if key == "" {
		return nil, fmt.Errorf("list tags: %q is not a repository name", repo)
	}
	if tags, ok := l.cache.lru.Get(key); ok {
		return tags, nil
	}
	ch := l.cache.group.DoChan(key, func() (any, error) {
		// The fetch outlives a caller that gives up, so that the others
		// waiting for it still get an answer; the resolver's own timeout
		// bounds it.
		tags, err := l.src.Tags(context.WithoutCancel(ctx), repo)
		if err == nil {
			l.cache.lru.Add(key, tags)
		}
		return tags, err
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.([]string), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("list tags of %s: %w", repo, ctx.Err())
	}
}
