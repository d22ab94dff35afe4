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

// lookup is one cached resolution; done is closed when it is complete.
type lookup struct {
	done   chan struct{}
	digest string
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
	key := tag.Name()
	for {
		r.mu.Lock()
		l, ok := r.cache[key]
		if !ok {
			l = &lookup{done: make(chan struct{})}
			r.cache[key] = l
			r.mu.Unlock()
			l.digest, l.err = r.fetch(ctx, tag)
			if l.err != nil && ctx.Err() != nil {
				l.retry = true
				r.mu.Lock()
				delete(r.cache, key)
				r.mu.Unlock()
			}
			close(l.done)
			return l.digest, l.err
		}
		r.mu.Unlock()
		select {
		case <-l.done:
		case <-ctx.Done():
			return "", fmt.Errorf("resolve %s: %w", ref, ctx.Err())
		}
		if !l.retry {
			return l.digest, l.err
		}
	}
}

// fetch asks the registry, with credentials and then anonymously.
func (r *RegistryResolver) fetch(ctx context.Context, tag name.Tag) (string, error) {
	select {
	case r.sem <- struct{}{}:
		defer func() { <-r.sem }()
	case <-ctx.Done():
		return "", fmt.Errorf("resolve %s: %w", tag, ctx.Err())
	}
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()

	auth, kerr := r.Keychain.Resolve(tag.Context())
	if kerr != nil || auth == nil {
		// A broken credential helper must not hide public images.
		auth = authn.Anonymous
	}
	digest, err := r.head(ctx, tag, auth)
	if err != nil && auth != authn.Anonymous && !notFound(err) && ctx.Err() == nil {
		var anonErr error
		if digest, anonErr = r.head(ctx, tag, authn.Anonymous); anonErr != nil {
			err = fmt.Errorf("with credentials: %v; anonymously: %w", err, anonErr)
		} else {
			err = nil
		}
	}
	if err != nil {
		if kerr != nil {
			err = fmt.Errorf("%w (keychain: %v)", err, kerr)
		}
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("%w (%v after %s)", err, ctx.Err(), r.Timeout)
		}
		return "", fmt.Errorf("resolve %s: %w", tag, err)
	}
	return digest, nil
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
