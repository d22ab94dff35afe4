package fakegithub

import (
	"context"
	"crypto/rsa"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-github/v89/github"
	"github.com/gregjones/httpcache"
	"github.com/palantir/go-githubapp/githubapp"
)

const (
	testAppID  = 4242
	testInstID = 77
	owner      = "acme"
	repoName   = "widgets"
	fullName   = owner + "/" + repoName
)

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
	testPEM []byte
)

func appKey(t testing.TB) (*rsa.PrivateKey, []byte) {
	t.Helper()
	keyOnce.Do(func() { testKey, testPEM = GenerateAppKey() })
	if testKey == nil {
		t.Fatal("cannot generate a key")
	}
	return testKey, testPEM
}

type env struct {
	s      *Server
	cc     githubapp.ClientCreator
	client *github.Client // installation client (HTTP cache, always revalidating)
	ctx    context.Context
}

// setup starts a fake with one installation on "acme" holding
// acme/widgets, and real go-githubapp clients for it.
func setup(t *testing.T, opts ...Option) *env {
	t.Helper()
	key, pemBytes := appKey(t)
	s := New(t, append([]Option{WithAppKey(testAppID, key)}, opts...)...)
	s.AddInstallation(testInstID, owner)
	s.AddRepoWithFiles(testInstID, fullName, "main", map[string]string{
		"README.md":           "hello\n",
		"deploy/app.yaml":     "image: nginx:1.25\n",
		"deploy/nested/x.txt": "x\n",
	})
	var cfg githubapp.Config
	cfg.V3APIURL = s.URL()
	cfg.App.IntegrationID = testAppID
	cfg.App.PrivateKey = string(pemBytes)
	cc, err := githubapp.NewDefaultCachingClientCreator(cfg,
		githubapp.WithClientCaching(true, func() httpcache.Cache { return httpcache.NewMemoryCache() }))
	if err != nil {
		t.Fatal(err)
	}
	client, err := cc.NewInstallationClient(testInstID)
	if err != nil {
		t.Fatal(err)
	}
	return &env{s: s, cc: cc, client: client, ctx: context.Background()}
}

func must[T any](t *testing.T) func(v T, resp *github.Response, err error) T {
	return func(v T, resp *github.Response, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

func statusOf(err error) int {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	return 0
}

func rawRequest(t *testing.T, s *Server, method, path, auth string, body string) *http.Response {
	t.Helper()
	var req *http.Request
	var err error
	if body == "" {
		req, err = http.NewRequest(method, s.URL()+path, nil)
	} else {
		req, err = http.NewRequest(method, s.URL()+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	}
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}
