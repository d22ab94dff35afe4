package fakegithub

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"
)

// TestOddRequests sends valid-but-odd and invalid requests; the fake must
// answer each without a 5xx and without panicking.
func TestOddRequests(t *testing.T) {
	e := setup(t)
	s := e.s
	s.Commit(fullName, "tend/x", map[string]string{"a.txt": "1"}, nil, "alice", "x")
	s.AddIssue(fullName, 0, "t", "b", "alice", nil)
	auth := "token " + s.UserToken("alice")
	sha := strings.Repeat("0", 40)
	cases := []struct{ method, path, body string }{
		{"POST", "repos/acme/widgets/git/trees", `{"tree":[{"path":"../x","mode":"100644","type":"blob","content":"x"}]}`},
		{"POST", "repos/acme/widgets/git/trees", `{"tree":[{"path":"a","mode":"040000","type":"blob","content":"x"}]}`},
		{"POST", "repos/acme/widgets/git/trees", `{"tree":[{"path":"a","mode":"100644","type":"blob","sha":"` + sha + `"}]}`},
		{"POST", "repos/acme/widgets/git/trees", `{"tree":[{"path":"a","mode":"100644","type":"blob"}]}`},
		{"POST", "repos/acme/widgets/git/trees", `{"tree":[{"path":"a","mode":"100644","type":"blob","content":"x","sha":"abc"}]}`},
		{"POST", "repos/acme/widgets/git/trees", `{"base_tree":"nope","tree":[]}`},
		{"POST", "repos/acme/widgets/git/trees", `{"tree":[{"path":"a/b","mode":"160000","type":"commit","sha":"zz"}]}`},
		{"POST", "repos/acme/widgets/git/blobs", `{"content":"!!!","encoding":"base64"}`},
		{"POST", "repos/acme/widgets/git/blobs", `{"content":"x","encoding":"latin1"}`},
		{"POST", "repos/acme/widgets/git/commits", `{"message":"m","tree":"` + emptyTreeSHA + `","parents":["` + sha + `"]}`},
		{"POST", "repos/acme/widgets/git/commits", `{"message":"m","tree":"` + emptyTreeSHA + `","author":{"name":"a","email":"b","date":"yesterday"}}`},
		{"POST", "repos/acme/widgets/git/refs", `{"ref":"heads/no-prefix","sha":"` + sha + `"}`},
		{"POST", "repos/acme/widgets/git/refs", `{"ref":"refs/heads/bad..name","sha":"` + sha + `"}`},
		{"POST", "repos/acme/widgets/git/refs", `{"ref":"refs/heads/ok","sha":"` + sha + `"}`},
		{"PATCH", "repos/acme/widgets/git/refs/heads/missing", `{"sha":"` + sha + `"}`},
		{"DELETE", "repos/acme/widgets/git/refs/heads/missing", ``},
		{"GET", "repos/acme/widgets/git/trees/" + sha, ``},
		{"GET", "repos/acme/widgets/git/blobs/xyz", ``},
		{"GET", "repos/acme/widgets/git/commits/xyz", ``},
		{"GET", "repos/acme/widgets/compare/main", ``},
		{"GET", "repos/acme/widgets/compare/...", ``},
		{"GET", "repos/acme/widgets/compare/other:main...tend/x", ``},
		{"GET", "repos/acme/widgets/compare/main...nope", ``},
		{"GET", "repos/acme/widgets/commits/nope", ``},
		{"GET", "repos/acme/widgets/commits?sha=nope", ``},
		{"GET", "repos/acme/widgets/commits?per_page=1000&page=999", ``},
		{"GET", "repos/acme/widgets/contents/a.txt?ref=nope", ``},
		{"GET", "repos/acme/widgets/contents/README.md/deeper", ``},
		{"GET", "repos/acme/widgets/branches/nope", ``},
		{"POST", "repos/acme/widgets/pulls", `{"title":"x","head":"a:b:c","base":"main"}`},
		{"POST", "repos/acme/widgets/pulls", `{"title":"x","head":"tend/x","base":"nope"}`},
		{"POST", "repos/acme/widgets/pulls", `{"title":"x","head":"main","base":"main"}`},
		{"POST", "repos/acme/widgets/pulls", `{"head":"tend/x","base":"main","issue":1}`},
		{"GET", "repos/acme/widgets/pulls/99", ``},
		{"GET", "repos/acme/widgets/pulls/1", ``}, // #1 is an issue
		{"PUT", "repos/acme/widgets/pulls/99/merge", `{}`},
		{"PATCH", "repos/acme/widgets/pulls/99", `{"state":"closed"}`},
		{"GET", "repos/acme/widgets/issues/0", ``},
		{"PATCH", "repos/acme/widgets/issues/1", `{"state":"open","labels":[{"name":"x"},"y"]}`},
		{"PATCH", "repos/acme/widgets/issues/1", `{"title":12}`},
		{"POST", "repos/acme/widgets/issues/1/comments", `{"body":""}`},
		{"PATCH", "repos/acme/widgets/issues/comments/1", `{"body":"x"}`},
		{"DELETE", "repos/acme/widgets/issues/comments/999999", ``},
		{"POST", "repos/acme/widgets/issues/comments/5/reactions", `{"content":"heart"}`},
		{"DELETE", "repos/acme/widgets/issues/1/labels/nope", ``},
		{"POST", "repos/acme/widgets/labels", `{"name":""}`},
		{"PATCH", "repos/acme/widgets/check-runs/123", `{"name":"x"}`},
		{"POST", "repos/acme/widgets/check-runs", `{"name":"x","head_sha":"main","status":"completed"}`},
		{"POST", "repos/acme/widgets/check-runs", `{"name":"","head_sha":"` + sha + `"}`},
		{"GET", "repos/acme/widgets/commits/nope/check-runs", ``},
		{"GET", "repos/acme/widgets/releases/latest", ``},
		{"GET", "repos/acme/widgets/releases/123", ``},
		{"GET", "repos/nobody/nothing", ``},
		{"GET", "repos/acme/widgets/collaborators/nobody/permission", ``},
		{"GET", "app/installations/5", ``},
		{"POST", "repos/acme/widgets/git/blobs", `[1,2,3]`},
		{"POST", "repos/acme/widgets/git/blobs", `"just a string"`},
		{"POST", "repos/acme/widgets/git/blobs", "\x00\x01"},
	}
	for _, tc := range cases {
		resp := rawRequest(t, s, tc.method, tc.path, auth, tc.body)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 500 {
			t.Errorf("%s %s %s: %d %s", tc.method, tc.path, tc.body, resp.StatusCode, body)
		}
	}
	for _, v := range s.TakeViolations() {
		if strings.Contains(v, "fakegithub bug") {
			t.Error(v)
		}
	}
}

// TestConcurrent mixes API calls, state changes and webhook deliveries from
// several goroutines (run with -race).
func TestConcurrent(t *testing.T) {
	e := setup(t)
	ctx, c, s := e.ctx, e.client, e.s
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer recv.Close()
	s.SetWebhooks(recv.URL, "k")
	var wg sync.WaitGroup
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			branch := fmt.Sprintf("b%d", g)
			for i := 0; i < 20; i++ {
				s.Commit(fullName, branch, map[string]string{fmt.Sprintf("f%d.txt", g): fmt.Sprint(i)}, nil, "alice", "c")
				if _, _, err := c.Repositories.GetBranch(ctx, owner, repoName, branch, 0); err != nil {
					t.Error(err)
					return
				}
				if _, _, _, err := c.Repositories.GetContents(ctx, owner, repoName, fmt.Sprintf("f%d.txt", g), &github.RepositoryContentGetOptions{Ref: branch}); err != nil {
					t.Error(err)
					return
				}
				_ = s.Requests()
				_ = s.PullRequests(fullName)
			}
		}(g)
	}
	wg.Wait()
	if err := s.WaitWebhooksDelivered(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if n := len(s.Deliveries()); n != 120 {
		t.Errorf("deliveries = %d, want 120 pushes", n)
	}
}
