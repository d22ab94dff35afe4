package images

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Defaults for RegistryResolver.
const (
	DefaultConcurrency = 4
	DefaultTimeout     = 30 * time.Second
)

// RegistryResolver resolves tags with go-containerregistry. Make one per
// reconcile run: it caches every answer, including failures, for its
// lifetime, so that a run sees one consistent view of each tag and asks the
// registry about each image once. Set the fields before the first call.
type RegistryResolver struct {
	// Keychain provides credentials; authn.DefaultKeychain when nil. When
	// the registry refuses the credentials, the lookup is retried
	// anonymously, which is all public images need.
	Keychain authn.Keychain
	// Options are passed to every remote call (a transport, a user agent…).
	// They come after the resolver's own context and credentials, so they
	// must not set either.
	Options []remote.Option
	// Concurrency bounds the images looked up at once (DefaultConcurrency
	// when 0), across all the files of a run.
	Concurrency int
	// Timeout bounds the lookup of one image, fallbacks included
	// (DefaultTimeout when 0).
	Timeout time.Duration

	once  sync.Once
	sem   chan struct{}
	mu    sync.Mutex
	cache map[string]*lookup
}

// lookup is one cached answer (a digest or a tag list); done is closed when
// it is complete.
type lookup struct {
	done   chan struct{}
	digest string
	tags   []string
	err    error
	// retry is set when the lookup was abandoned because its caller's
	// context ended: it says nothing about the image, so others try again.
	retry bool
}

// NewRegistryResolver returns a resolver using the default keychain, with
// opts passed to every remote call.
func NewRegistryResolver(opts ...remote.Option) *RegistryResolver {
	return &RegistryResolver{Options: opts}
}

func (r *RegistryResolver) init() {
	r.once.Do(func() {
		n := r.Concurrency
		if n <= 0 {
			n = DefaultConcurrency
		}
		r.sem = make(chan struct{}, n)
		r.cache = map[string]*lookup{}
		if r.Keychain == nil {
			r.Keychain = authn.DefaultKeychain
		}
		if r.Timeout <= 0 {
			r.Timeout = DefaultTimeout
		}
	})
}

// Digest implements Resolver. Concurrent calls for the same image share one
// request.
func (r *RegistryResolver) Digest(ctx context.Context, ref string) (string, error) {
	r.init()
	tag, err := name.NewTag(ref)
	if err != nil {
		return "", fmt.Errorf("parse %q: %w", ref, err)
	}
	// The canonical name makes "nginx", "docker.io/nginx" and
	// "index.docker.io/library/nginx" one cache entry.
	l, err := r.cached(ctx, "digest "+tag.Name(), func(l *lookup) {
		l.digest, l.err = r.fetch(ctx, tag)
	})
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", ref, err)
	}
	return l.digest, l.err
}

// Tags implements TagLister with the registry's tag list (every page of
// it). Like digests, a run asks for each repository once.
func (r *RegistryResolver) Tags(ctx context.Context, repo string) ([]string, error) {
	r.init()
	rp, err := name.NewRepository(repo)
	if err != nil {
		return nil, fmt.Errorf("parse %q: %w", repo, err)
	}
	l, err := r.cached(ctx, "tags "+rp.Name(), func(l *lookup) {
		l.tags, l.err = r.list(ctx, rp)
	})
	if err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", repo, err)
	}
	return l.tags, l.err
}

// cached returns the lookup for key, running fill for the first caller and
// making concurrent callers wait for it. The error is only the caller's
// context ending; the lookup's own error is in the lookup.
func (r *RegistryResolver) cached(ctx context.Context, key string, fill func(*lookup)) (*lookup, error) {
	for {
		r.mu.Lock()
		l, ok := r.cache[key]
		if !ok {
			l = &lookup{done: make(chan struct{})}
			r.cache[key] = l
			r.mu.Unlock()
			fill(l)
			if l.err != nil && ctx.Err() != nil {
				l.retry = true
				r.mu.Lock()
				delete(r.cache, key)
				r.mu.Unlock()
			}
			close(l.done)
			return l, nil
		}
		r.mu.Unlock()
		select {
		case <-l.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if !l.retry {
			return l, nil
		}
	}
}

// fetch asks the registry for the digest of tag.
func (r *RegistryResolver) fetch(ctx context.Context, tag name.Tag) (string, error) {
	var digest string
	err := r.withAuth(ctx, tag.Context(), func(ctx context.Context, auth authn.Authenticator) error {
		var err error
		digest, err = r.head(ctx, tag, auth)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", tag, err)
	}
	return digest, nil
}

// MaxTagPages bounds the pages of one repository's tag list: registry data
// is untrusted, and a registry that never stops paginating must not hold a
// run (or its memory) forever. At the default page size that is 100,000
// tags, more than any real repository has.
const MaxTagPages = 100

// list asks the registry for every tag of repo, following its pagination.
func (r *RegistryResolver) list(ctx context.Context, repo name.Repository) ([]string, error) {
	var tags []string
	err := r.withAuth(ctx, repo, func(ctx context.Context, auth authn.Authenticator) error {
		p, err := remote.NewPuller(append([]remote.Option{remote.WithContext(ctx), remote.WithAuth(auth)}, r.Options...)...)
		if err != nil {
			return err
		}
		lister, err := p.Lister(ctx, repo)
		if err != nil {
			return err
		}
		tags = tags[:0]
		for pages := 0; lister.HasNext(); pages++ {
			if pages == MaxTagPages {
				return fmt.Errorf("the tag list is longer than %d pages", MaxTagPages)
			}
			page, err := lister.Next(ctx)
			if err != nil {
				return err
			}
			tags = append(tags, page.Tags...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", repo, err)
	}
	return tags, nil
}

// withAuth runs call within the concurrency bound and the timeout, with
// credentials and then, unless the answer was "not found", anonymously.
func (r *RegistryResolver) withAuth(ctx context.Context, repo name.Repository, call func(context.Context, authn.Authenticator) error) error {
	select {
	case r.sem <- struct{}{}:
		defer func() { <-r.sem }()
	case <-ctx.Done():
		return ctx.Err()
	}
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()

	auth, kerr := r.Keychain.Resolve(repo)
	if kerr != nil || auth == nil {
		// A broken credential helper must not hide public images.
		auth = authn.Anonymous
	}
	err := call(ctx, auth)
	if err != nil && auth != authn.Anonymous && !notFound(err) && ctx.Err() == nil {
		if anonErr := call(ctx, authn.Anonymous); anonErr != nil {
			err = fmt.Errorf("with credentials: %v; anonymously: %w", err, anonErr)
		} else {
			err = nil
		}
	}
	if err == nil {
		return nil
	}
	if kerr != nil {
		err = fmt.Errorf("%w (keychain: %v)", err, kerr)
	}
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		err = fmt.Errorf("%w (%v after %s)", err, ctx.Err(), r.Timeout)
	}
	return err
}

// head returns the digest the tag points at: for a multi-arch image, the
// index's. HEAD is cheap and does not count against Docker Hub's pull
// limits; registries that answer it badly (no Docker-Content-Digest) get a
// GET of the manifest instead.
func (r *RegistryResolver) head(ctx context.Context, tag name.Tag, auth authn.Authenticator) (string, error) {
	opts := append([]remote.Option{remote.WithContext(ctx), remote.WithAuth(auth)}, r.Options...)
	desc, err := remote.Head(tag, opts...)
	if err == nil {
		return desc.Digest.String(), nil
	}
	if notFound(err) || denied(err) || ctx.Err() != nil {
		return "", err
	}
	got, gerr := remote.Get(tag, opts...)
	if gerr != nil {
		return "", fmt.Errorf("HEAD: %v; GET: %w", err, gerr)
	}
	return got.Digest.String(), nil
}

func statusOf(err error) int {
	var terr *transport.Error
	if errors.As(err, &terr) {
		return terr.StatusCode
	}
	return 0
}

// notFound reports a missing repository or tag: retrying cannot help.
func notFound(err error) bool { return statusOf(err) == http.StatusNotFound }

func denied(err error) bool {
	s := statusOf(err)
	return s == http.StatusUnauthorized || s == http.StatusForbidden
}
