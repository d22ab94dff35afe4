package images

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// testRegistry is an in-memory registry on 127.0.0.1 (plain HTTP, which
// go-containerregistry uses for loopback addresses by itself), with hooks to
// count, slow down or refuse requests.
type testRegistry struct {
	*httptest.Server
	host string
	reg  http.Handler // the registry itself, for hooks

	mu       sync.Mutex
	requests map[string]int // "METHOD path" → count
	inFlight atomic.Int32
	maxIn    atomic.Int32
	// hook, when set, may answer a request itself (return true).
	hook func(w http.ResponseWriter, r *http.Request) bool
}

func newTestRegistry(t *testing.T) *testRegistry {
	t.Helper()
	tr := &testRegistry{requests: map[string]int{}}
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	tr.reg = reg
	tr.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr.mu.Lock()
		tr.requests[r.Method+" "+r.URL.Path]++
		hook := tr.hook
		tr.mu.Unlock()
		if strings.Contains(r.URL.Path, "/manifests/") {
			n := tr.inFlight.Add(1)
			defer tr.inFlight.Add(-1)
			for {
				m := tr.maxIn.Load()
				if n <= m || tr.maxIn.CompareAndSwap(m, n) {
					break
				}
			}
		}
		if hook != nil && hook(w, r) {
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(tr.Close)
	tr.host = strings.TrimPrefix(tr.URL, "http://")
	return tr
}

func (tr *testRegistry) setHook(h func(w http.ResponseWriter, r *http.Request) bool) {
	tr.mu.Lock()
	tr.hook = h
	tr.mu.Unlock()
}

func (tr *testRegistry) count(method, path string) int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.requests[method+" "+path]
}

// pushImage writes a random image under repo:tag and returns its digest.
func (tr *testRegistry) pushImage(t *testing.T, repoTag string) v1.Hash {
	t.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.NewTag(tr.host + "/" + repoTag)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// pushIndex writes a random multi-platform index under repo:tag and returns
// its digest and its children's.
func (tr *testRegistry) pushIndex(t *testing.T, repoTag string) (v1.Hash, []v1.Hash) {
	t.Helper()
	idx, err := random.Index(256, 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.NewTag(tr.host + "/" + repoTag)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	d, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var children []v1.Hash
	for _, c := range m.Manifests {
		children = append(children, c.Digest)
	}
	return d, children
}

func TestRegistryResolverDigests(t *testing.T) {
	tr := newTestRegistry(t)
	imgDigest := tr.pushImage(t, "team/app:1.0")
	idxDigest, children := tr.pushIndex(t, "team/multi:2")
	r := NewRegistryResolver()
	ctx := context.Background()
	pushHeads := tr.count(http.MethodHead, "/v2/team/app/manifests/1.0") // remote.Write checks first

	got, err := r.Digest(ctx, tr.host+"/team/app:1.0")
	if err != nil || got != imgDigest.String() {
		t.Errorf("image tag: got %q, %v; want %s", got, err, imgDigest)
	}
	got, err = r.Digest(ctx, tr.host+"/team/multi:2")
	if err != nil || got != idxDigest.String() {
		t.Errorf("index tag: got %q, %v; want the index digest %s", got, err, idxDigest)
	}
	for _, c := range children {
		if got == c.String() {
			t.Errorf("index tag resolved to a platform manifest %s", c)
		}
	}
	_, err = r.Digest(ctx, tr.host+"/team/app:nope")
	if err == nil || !notFound(err) || !strings.Contains(err.Error(), "team/app:nope") {
		t.Errorf("unknown tag: got %v, want a not-found error naming the reference", err)
	}

	// One request per image per run, however many times it is asked for.
	for range 3 {
		if _, err := r.Digest(ctx, tr.host+"/team/app:1.0"); err != nil {
			t.Fatal(err)
		}
	}
	if n := tr.count(http.MethodHead, "/v2/team/app/manifests/1.0") - pushHeads; n != 1 {
		t.Errorf("HEAD requests for team/app:1.0: %d, want 1 (cached)", n)
	}
	if _, err := r.Digest(ctx, tr.host+"/team/app:nope"); err == nil {
		t.Error("cached failure: got no error")
	}
	if n := tr.count(http.MethodHead, "/v2/team/app/manifests/nope"); n != 1 {
		t.Errorf("HEAD requests for team/app:nope: %d, want 1 (failures are cached too)", n)
	}
}

// TestPinAgainstRegistry pins a whole file against a real registry: an
// image tag, an index tag, a tag that moved since it was pinned, an untagged
// reference and an unknown tag, which fails alone.
func TestPinAgainstRegistry(t *testing.T) {
	tr := newTestRegistry(t)
	h := tr.host
	app := tr.pushImage(t, "team/app:1.0")
	multi, _ := tr.pushIndex(t, "team/multi:2")
	old := tr.pushImage(t, "team/moving:stable")
	latest := tr.pushImage(t, "team/tool:latest")

	dockerfile := "FROM " + h + "/team/app:1.0 AS base\n" +
		"FROM " + h + "/team/multi:2\n" +
		"COPY --from=" + h + "/team/moving:stable@" + old.String() + " /a /a\n" +
		"COPY --from=" + h + "/team/app:missing /b /b\n" +
		"COPY --from=" + h + "/team/tool /c /c\n" +
		"COPY --from=base /d /d\n"

	// The moving tag is pinned and has not moved yet: three changes.
	out, changes, failures, _ := Pin(context.Background(), "Dockerfile", []byte(dockerfile), NewRegistryResolver())
	if len(changes) != 3 {
		t.Fatalf("changes: %+v", changes)
	}
	if len(failures) != 1 || !strings.Contains(failures[0].Err.Error(), "team/app:missing") || failures[0].Ref.Line != 4 {
		t.Fatalf("failures: %+v", failures)
	}
	moved := tr.pushImage(t, "team/moving:stable")
	out2, changes2, failures2, _ := Pin(context.Background(), "Dockerfile", out, NewRegistryResolver())
	want := "FROM " + h + "/team/app:1.0@" + app.String() + " AS base\n" +
		"FROM " + h + "/team/multi:2@" + multi.String() + "\n" +
		"COPY --from=" + h + "/team/moving:stable@" + moved.String() + " /a /a\n" +
		"COPY --from=" + h + "/team/app:missing /b /b\n" +
		"COPY --from=" + h + "/team/tool:latest@" + latest.String() + " /c /c\n" +
		"COPY --from=base /d /d\n"
	if string(out2) != want {
		t.Errorf("after the tag moved:\n%s\nwant:\n%s", out2, want)
	}
	if len(changes2) != 1 || changes2[0].Old != h+"/team/moving:stable@"+old.String() {
		t.Errorf("second run changes: %+v", changes2)
	}
	if len(failures2) != 1 {
		t.Errorf("second run failures: %+v", failures2)
	}
	checkPinned(t, []byte(dockerfile), out, changes)
	checkPinned(t, out, out2, changes2)
}

// badKeychain hands out credentials the registry refuses.
type badKeychain struct{}

func (badKeychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	return authn.FromConfig(authn.AuthConfig{Username: "someone", Password: "expired"}), nil
}

type brokenKeychain struct{}

func (brokenKeychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	return nil, errors.New("docker-credential-gcloud not found")
}

func TestRegistryResolverFallsBackToAnonymous(t *testing.T) {
	tr := newTestRegistry(t)
	want := tr.pushImage(t, "public/app:1")
	tr.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("Authorization") != "" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}`))
			return true
		}
		return false
	})
	for _, kc := range []authn.Keychain{badKeychain{}, brokenKeychain{}} {
		r := NewRegistryResolver()
		r.Keychain = kc
		got, err := r.Digest(context.Background(), tr.host+"/public/app:1")
		if err != nil || got != want.String() {
			t.Errorf("%T: got %q, %v; want %s anonymously", kc, got, err, want)
		}
	}

	// When anonymous access fails too, the error says what was tried.
	r := NewRegistryResolver()
	r.Keychain = badKeychain{}
	_, err := r.Digest(context.Background(), tr.host+"/public/app:missing")
	if err == nil || !strings.Contains(err.Error(), "with credentials") || !strings.Contains(err.Error(), "anonymously") {
		t.Errorf("got %v, want both attempts in the error", err)
	}
}

func TestRegistryResolverBoundsAndTimeouts(t *testing.T) {
	tr := newTestRegistry(t)
	var refs []string
	for i := range 10 {
		tag := "t" + string(rune('a'+i))
		tr.pushImage(t, "busy/app:"+tag)
		refs = append(refs, tr.host+"/busy/app:"+tag)
	}
	tr.pushImage(t, "slow/app:1")
	tr.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		switch {
		case strings.HasPrefix(r.URL.Path, "/v2/slow/"):
			<-r.Context().Done() // never answers
			return true
		case strings.HasPrefix(r.URL.Path, "/v2/busy/app/manifests/"):
			time.Sleep(20 * time.Millisecond) // let lookups overlap
		}
		return false
	})

	r := NewRegistryResolver()
	r.Concurrency = 2
	r.Timeout = 300 * time.Millisecond
	var content strings.Builder
	for _, ref := range refs {
		content.WriteString("FROM " + ref + "\n")
	}
	content.WriteString("FROM " + tr.host + "/slow/app:1\n")
	start := time.Now()
	_, changes, failures, _ := Pin(context.Background(), "Dockerfile", []byte(content.String()), r)
	if len(changes) != 10 {
		t.Errorf("changes: %d, want 10", len(changes))
	}
	if len(failures) != 1 || !errors.Is(failures[0].Err, context.DeadlineExceeded) {
		t.Errorf("failures: %+v, want the slow image to time out", failures)
	}
	if m := tr.maxIn.Load(); m > 2 {
		t.Errorf("%d manifest requests at once, want at most 2", m)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
}

// A lookup abandoned because its caller gave up says nothing about the
// image; it must not poison the cache for the rest of the run.
func TestRegistryResolverCancelledLookupIsNotCached(t *testing.T) {
	tr := newTestRegistry(t)
	want := tr.pushImage(t, "team/app:1")
	r := NewRegistryResolver()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Digest(ctx, tr.host+"/team/app:1"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: got %v", err)
	}
	got, err := r.Digest(context.Background(), tr.host+"/team/app:1")
	if err != nil || got != want.String() {
		t.Errorf("after a cancelled lookup: got %q, %v", got, err)
	}
}

func TestRegistryResolverSharesConcurrentLookups(t *testing.T) {
	tr := newTestRegistry(t)
	want := tr.pushImage(t, "team/app:1")
	release := make(chan struct{})
	tr.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.Contains(r.URL.Path, "/manifests/") {
			<-release
		}
		return false
	})
	pushHeads := tr.count(http.MethodHead, "/v2/team/app/manifests/1")
	r := NewRegistryResolver()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := r.Digest(context.Background(), tr.host+"/team/app:1")
			if err == nil && got != want.String() {
				err = errors.New("wrong digest " + got)
			}
			errs <- err
		}()
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := tr.count(http.MethodHead, "/v2/team/app/manifests/1") - pushHeads; n != 1 {
		t.Errorf("HEAD requests: %d, want 1", n)
	}
}
