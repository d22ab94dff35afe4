package fakegithub

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"
)

// Other apps' check runs, commit statuses, Actions job logs (302 to a
// download URL), reviews and review comments: what tend reads to give CI
// and review feedback to its agent, and the webhooks that announce them.
func TestChecksStatusesLogsReviews(t *testing.T) {
	e := setup(t)
	ctx, c, s := e.ctx, e.client, e.s
	const secret = "s3cret"
	var mu sync.Mutex
	got := map[string]map[string]any{}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		payload, err := github.ValidatePayload(r, []byte(secret))
		if err != nil {
			t.Errorf("signature: %v", err)
		}
		if _, err := github.ParseWebHook(github.WebHookType(r), payload); err != nil {
			t.Errorf("parse %s: %v", github.WebHookType(r), err)
		}
		var m map[string]any
		_ = json.Unmarshal(payload, &m)
		mu.Lock()
		got[github.WebHookType(r)] = m
		mu.Unlock()
	}))
	defer recv.Close()
	s.SetWebhooks(recv.URL, secret)

	sha := s.Commit(fullName, "fix", map[string]string{"a.txt": "a\n"}, nil, "alice", "work")
	id := s.AddForeignCheckRun(fullName, sha, ActionsApp, "build", "failure", CheckRunOutput{Title: "2 errors", Summary: "compile failed"})
	s.SetJobLog(id, "2024-01-01T00:00:00.0000000Z \x1b[31merror\x1b[0m: boom\n")
	s.SetStatus(fullName, sha, "ci/lint", "failure", "lint failed", "https://ci.example/1")
	n, err := s.OpenPR(fullName, "fix", "main", "Fix", "", "alice")
	if err != nil {
		t.Fatal(err)
	}
	s.SetPermission(fullName, "bob", "write")
	rid, cids := s.AddReview(fullName, n, "bob", "CHANGES_REQUESTED", "Please rename.", ReviewComment{Path: "a.txt", Line: 1, DiffHunk: "@@ -0,0 +1 @@\n+a", Body: "not a"})
	if err := s.WaitWebhooksDelivered(10 * time.Second); err != nil {
		t.Fatal(err)
	}

	runs := must[*github.ListCheckRunsResults](t)(c.Checks.ListCheckRunsForRef(ctx, owner, repoName, sha, nil))
	if runs.GetTotal() != 1 || runs.CheckRuns[0].GetApp().GetSlug() != "github-actions" || runs.CheckRuns[0].GetOutput().GetSummary() != "compile failed" {
		t.Fatalf("check runs %+v", runs.CheckRuns)
	}
	loc, resp, err := c.Actions.GetWorkflowJobLogs(ctx, owner, repoName, id, 0)
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("job logs: %v %v", resp, err)
	}
	lr, err := http.Get(loc.String())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(lr.Body)
	lr.Body.Close()
	if !strings.Contains(string(body), "boom") {
		t.Errorf("log %q", body)
	}
	if _, resp, err := c.Actions.GetWorkflowJobLogs(ctx, owner, repoName, id+999, 0); err == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown job: %v", err)
	}
	cs := must[*github.CombinedStatus](t)(c.Repositories.GetCombinedStatus(ctx, owner, repoName, sha, nil))
	if cs.GetState() != "failure" || len(cs.Statuses) != 1 || cs.Statuses[0].GetDescription() != "lint failed" {
		t.Errorf("combined status %+v", cs)
	}
	reviews := must[[]*github.PullRequestReview](t)(c.PullRequests.ListReviews(ctx, owner, repoName, n, nil))
	if len(reviews) != 1 || reviews[0].GetID() != rid || reviews[0].GetState() != "CHANGES_REQUESTED" || reviews[0].GetBody() != "Please rename." {
		t.Errorf("reviews %+v", reviews)
	}
	comments := must[[]*github.PullRequestComment](t)(c.PullRequests.ListComments(ctx, owner, repoName, n, nil))
	if len(comments) != 1 || comments[0].GetID() != cids[0] || comments[0].GetLine() != 1 || comments[0].GetPullRequestReviewID() != rid {
		t.Errorf("review comments %+v", comments)
	}

	mu.Lock()
	defer mu.Unlock()
	for _, ev := range []string{"check_run", "check_suite", "status", "pull_request_review", "pull_request_review_comment"} {
		if got[ev] == nil {
			t.Errorf("no %s webhook", ev)
		}
	}
	if suite, _ := got["check_suite"]["check_suite"].(map[string]any); suite["head_branch"] != "fix" || suite["conclusion"] != "failure" {
		t.Errorf("check_suite %v", suite)
	}
	if br, _ := got["status"]["branches"].([]any); len(br) != 1 || br[0].(map[string]any)["name"] != "fix" {
		t.Errorf("status branches %v", got["status"]["branches"])
	}
}
