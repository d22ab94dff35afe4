package fakegithub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"
	"github.com/gregjones/httpcache"
	"github.com/palantir/go-githubapp/githubapp"
)

func TestCommentsLabelsReactions(t *testing.T) {
	e := setup(t)
	ctx, c, s := e.ctx, e.client, e.s
	n := s.AddIssue(fullName, 0, "Bump nginx", "please", "alice", []string{"tend"})
	cm := must[*github.IssueComment](t)(c.Issues.CreateComment(ctx, owner, repoName, n, &github.IssueComment{Body: github.Ptr("On it")}))
	if cm.GetUser().GetLogin() != "tend[bot]" || cm.GetBody() != "On it" {
		t.Errorf("comment = %+v", cm)
	}
	must[*github.IssueComment](t)(c.Issues.EditComment(ctx, owner, repoName, cm.GetID(), &github.IssueComment{Body: github.Ptr("Done")}))
	human := s.AddComment(fullName, n, "alice", "/reconcile")
	r1 := must[*github.Reaction](t)(c.Reactions.CreateIssueCommentReaction(ctx, owner, repoName, human, "eyes"))
	r2, resp, err := c.Reactions.CreateIssueCommentReaction(ctx, owner, repoName, human, "eyes")
	if err != nil || resp.StatusCode != http.StatusOK || r2.GetID() != r1.GetID() {
		t.Errorf("repeated reaction: %v %v", resp.StatusCode, err)
	}
	must[*github.Reaction](t)(c.Reactions.CreateIssueReaction(ctx, owner, repoName, n, "+1"))

	// go-github sends a bare array here.
	labels := must[[]*github.Label](t)(c.Issues.AddLabelsToIssue(ctx, owner, repoName, n, []string{"tend/working", "bug"}))
	if len(labels) != 3 {
		t.Errorf("labels = %v", labels)
	}
	if _, err := c.Issues.RemoveLabelForIssue(ctx, owner, repoName, n, "tend/working"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Issues.RemoveLabelForIssue(ctx, owner, repoName, n, "tend/working"); statusOf(err) != http.StatusNotFound {
		t.Errorf("removing a missing label: %v", err)
	}
	tagged := must[[]*github.Issue](t)(c.Issues.ListByRepo(ctx, owner, repoName, &github.IssueListByRepoOptions{Labels: []string{"tend", "bug"}}))
	untagged := must[[]*github.Issue](t)(c.Issues.ListByRepo(ctx, owner, repoName, &github.IssueListByRepoOptions{Labels: []string{"nope"}}))
	if len(tagged) != 1 || len(untagged) != 0 {
		t.Errorf("by label: %d, %d", len(tagged), len(untagged))
	}
	comments := must[[]*github.IssueComment](t)(c.Issues.ListComments(ctx, owner, repoName, n, nil))
	if len(comments) != 2 || comments[0].GetBody() != "Done" || comments[1].GetAuthorAssociation() != "NONE" {
		t.Errorf("comments = %v", comments)
	}
	if _, err := c.Issues.DeleteComment(ctx, owner, repoName, cm.GetID()); err != nil {
		t.Fatal(err)
	}
	must[*github.Issue](t)(c.Issues.Edit(ctx, owner, repoName, n, &github.IssueRequest{State: github.Ptr("closed")}))

	got := s.Comments(fullName, n)
	if len(got) != 1 || got[0].User != "alice" || len(got[0].Reactions) != 1 || got[0].Reactions[0] != (Reaction{User: "tend[bot]", Content: "eyes"}) {
		t.Errorf("Comments = %+v", got)
	}
	issues := s.Issues(fullName)
	if len(issues) != 1 || issues[0].State != "closed" || strings.Join(issues[0].Labels, ",") != "tend,bug" || len(issues[0].Reactions) != 1 {
		t.Errorf("Issues = %+v", issues)
	}
	repoLabels := must[[]*github.Label](t)(c.Issues.ListLabels(ctx, owner, repoName, nil))
	if len(repoLabels) != 3 {
		t.Errorf("repo labels = %d", len(repoLabels))
	}
}

func TestReleasesAndPermissions(t *testing.T) {
	e := setup(t)
	ctx, c, s := e.ctx, e.client, e.s
	s.AddRelease(fullName, "v1.0.0", "First", "notes")
	id := s.AddRelease(fullName, "release/v2", "Second", "more")
	rel := must[*github.RepositoryRelease](t)(c.Repositories.GetReleaseByTag(ctx, owner, repoName, "release/v2"))
	if rel.GetID() != id || rel.GetName() != "Second" {
		t.Errorf("by tag = %+v", rel)
	}
	latest := must[*github.RepositoryRelease](t)(c.Repositories.GetLatestRelease(ctx, owner, repoName))
	byID := must[*github.RepositoryRelease](t)(c.Repositories.GetRelease(ctx, owner, repoName, id))
	if latest.GetTagName() != "release/v2" || byID.GetBody() != "more" {
		t.Errorf("latest = %s, by id = %s", latest.GetTagName(), byID.GetBody())
	}
	if _, _, err := c.Repositories.GetReleaseByTag(ctx, owner, repoName, "v9"); statusOf(err) != http.StatusNotFound {
		t.Errorf("missing release: %v", err)
	}
	if _, ok := s.Branch(fullName, "main"); !ok {
		t.Fatal("main missing")
	}
	if refs := must[[]*github.Reference](t)(c.Git.ListMatchingRefs(ctx, owner, repoName, "tags/")); len(refs) != 2 {
		t.Errorf("tags = %d", len(refs))
	}

	s.SetPermission(fullName, "alice", "write")
	s.SetPermission(fullName, "bob", "triage")
	s.SetPermission(fullName, "carol", "maintain")
	s.UserToken("dave") // a known user without access
	for user, want := range map[string]string{"alice": "write/write", "bob": "read/triage", "carol": "write/maintain", "dave": "none/none", "acme": "admin/admin"} {
		p := must[*github.RepositoryPermissionLevel](t)(c.Repositories.GetPermissionLevel(ctx, owner, repoName, user))
		if got := p.GetPermission() + "/" + p.GetRoleName(); got != want || p.GetUser().GetLogin() != user {
			t.Errorf("%s: %s, want %s", user, got, want)
		}
	}
	if _, _, err := c.Repositories.GetPermissionLevel(ctx, owner, repoName, "nobody"); statusOf(err) != http.StatusNotFound {
		t.Errorf("unknown user: %v", err)
	}
}

func TestConditionalRequests(t *testing.T) {
	e := setup(t)
	ctx, c, s := e.ctx, e.client, e.s
	must[*github.Repository](t)(c.Repositories.Get(ctx, owner, repoName))
	s.ResetRequests()
	_, resp, err := c.Repositories.Get(ctx, owner, repoName)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("X-From-Cache") != "1" {
		t.Errorf("second GET not served from httpcache")
	}
	reqs := s.Requests()
	if len(reqs) != 1 || !reqs[0].Conditional || !reqs[0].NotModified || reqs[0].Status != http.StatusNotModified {
		t.Fatalf("requests = %+v", reqs)
	}
	// 304s are free: only the first GET counted (the token exchange is
	// charged to the App, not the installation).
	if resp.Rate.Limit-resp.Rate.Remaining != 1 {
		t.Errorf("rate = %+v", resp.Rate)
	}

	// A change makes the ETag differ: 200 with fresh content.
	f, _, _, err := c.Repositories.GetContents(ctx, owner, repoName, "README.md", nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Commit(fullName, "main", map[string]string{"README.md": "changed\n"}, nil, "alice", "edit")
	f2, _, _, err := c.Repositories.GetContents(ctx, owner, repoName, "README.md", nil)
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := f.GetContent(); a != "hello\n" {
		t.Errorf("before = %q", a)
	}
	if b, _ := f2.GetContent(); b != "changed\n" {
		t.Errorf("after = %q", b)
	}
	var notModified, conditional int
	for _, r := range s.Requests() {
		if r.Conditional {
			conditional++
		}
		if r.NotModified {
			notModified++
		}
	}
	if conditional != 2 || notModified != 1 {
		t.Errorf("conditional=%d notModified=%d", conditional, notModified)
	}

	// Without alwaysValidate httpcache trusts max-age=60 and asks nothing.
	var cfg githubapp.Config
	cfg.V3APIURL = s.URL()
	cfg.App.IntegrationID = testAppID
	_, pemBytes := appKey(t)
	cfg.App.PrivateKey = string(pemBytes)
	cc, err := githubapp.NewDefaultCachingClientCreator(cfg, githubapp.WithClientCaching(false, func() httpcache.Cache { return httpcache.NewMemoryCache() }))
	if err != nil {
		t.Fatal(err)
	}
	lazy, err := cc.NewInstallationClient(testInstID)
	if err != nil {
		t.Fatal(err)
	}
	must[*github.Repository](t)(lazy.Repositories.Get(ctx, owner, repoName))
	s.ResetRequests()
	must[*github.Repository](t)(lazy.Repositories.Get(ctx, owner, repoName))
	if n := len(s.Requests()); n != 0 {
		t.Errorf("fresh cache entry still asked the server %d times", n)
	}
}

func TestRateLimit(t *testing.T) {
	e := setup(t, WithRateLimit(5))
	ctx, c := e.ctx, e.client
	var last *github.Response
	for i := 0; i < 5; i++ {
		_, resp, err := c.Repositories.Get(ctx, owner, repoName)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		last = resp
	}
	// The 304s were free: only the first GET was charged.
	if last.Rate.Limit != 5 || last.Rate.Remaining != 4 {
		t.Errorf("rate = %+v", last.Rate)
	}
	for i := 0; i < 4; i++ {
		must[*github.Blob](t)(c.Git.CreateBlob(ctx, owner, repoName, github.Blob{Content: github.Ptr(fmt.Sprint(i))}))
	}
	_, _, err := c.Git.GetRef(ctx, owner, repoName, "heads/main")
	var rle *github.RateLimitError
	if !errors.As(err, &rle) {
		t.Errorf("over the limit: %T %v", err, err)
	}
}

func TestTokenExpiry(t *testing.T) {
	e := setup(t, WithTokenTTL(1500*time.Millisecond))
	ctx, c, s := e.ctx, e.client, e.s
	app, err := e.cc.NewAppClient()
	if err != nil {
		t.Fatal(err)
	}
	tok := must[*github.InstallationToken](t)(app.Apps.CreateInstallationToken(ctx, testInstID, nil))
	if resp := rawRequest(t, s, "GET", "repos/acme/widgets", "token "+tok.GetToken(), ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("fresh token: %d", resp.StatusCode)
	}
	must[*github.Repository](t)(c.Repositories.Get(ctx, owner, repoName))
	time.Sleep(1600 * time.Millisecond)
	resp := rawRequest(t, s, "GET", "repos/acme/widgets", "Bearer "+tok.GetToken(), "")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "Bad credentials") {
		t.Errorf("expired token: %d %s", resp.StatusCode, body)
	}
	// go-githubapp (ghinstallation) refreshes by itself.
	must[*github.Repository](t)(c.Repositories.Get(ctx, owner, repoName))
	minted := 0
	for _, r := range s.Requests() {
		if r.Operation == "apps/create-installation-access-token" && r.Status == http.StatusCreated {
			minted++
		}
	}
	if minted < 3 {
		t.Errorf("tokens minted = %d, want >= 3", minted)
	}
	s.TakeViolations()
}

func TestAuthentication(t *testing.T) {
	e := setup(t)
	ctx, s := e.ctx, e.s
	s.AddInstallation(88, "globex")
	s.AddRepo(88, "globex/thing", "main")
	s.AddRepo(0, "other/secret", "trunk")

	app, err := e.cc.NewAppClient()
	if err != nil {
		t.Fatal(err)
	}
	a := must[*github.App](t)(app.Apps.Get(ctx, ""))
	if a.GetID() != testAppID || a.GetSlug() != "tend" {
		t.Errorf("app = %+v", a)
	}
	insts := must[[]*github.Installation](t)(app.Apps.ListInstallations(ctx, nil))
	if len(insts) != 2 || insts[0].GetAccount().GetLogin() != owner {
		t.Errorf("installations = %v", insts)
	}
	if inst := must[*github.Installation](t)(app.Apps.GetRepositoryInstallation(ctx, "globex", "thing")); inst.GetID() != 88 {
		t.Errorf("repo installation = %d", inst.GetID())
	}
	if inst := must[*github.Installation](t)(app.Apps.GetOrganizationInstallation(ctx, "ACME")); inst.GetID() != testInstID {
		t.Errorf("org installation = %d", inst.GetID())
	}
	if _, _, err := app.Apps.GetRepositoryInstallation(ctx, "other", "secret"); statusOf(err) != http.StatusNotFound {
		t.Errorf("uninstalled repo: %v", err)
	}
	repos := must[*github.ListRepositories](t)(e.client.Apps.ListRepos(ctx, nil))
	if repos.GetTotalCount() != 1 || repos.Repositories[0].GetFullName() != fullName {
		t.Errorf("installation repos = %+v", repos)
	}
	for _, name := range []string{"globex/thing", "other/secret"} {
		o, r, _ := strings.Cut(name, "/")
		if _, _, err := e.client.Repositories.Get(ctx, o, r); statusOf(err) != http.StatusNotFound {
			t.Errorf("%s through another installation: %v", name, err)
		}
	}
	// Installation tokens don't open /app; app JWTs don't open repositories.
	if _, _, err := e.client.Apps.Get(ctx, ""); statusOf(err) != http.StatusUnauthorized {
		t.Errorf("installation token on /app: %v", err)
	}
	if _, _, err := app.Repositories.Get(ctx, owner, repoName); statusOf(err) != http.StatusUnauthorized {
		t.Errorf("JWT on a repository: %v", err)
	}
	// A JWT signed with another key.
	_, otherPEM := GenerateAppKey()
	var cfg githubapp.Config
	cfg.V3APIURL = s.URL()
	cfg.App.IntegrationID = testAppID
	cfg.App.PrivateKey = string(otherPEM)
	bad, err := githubapp.NewDefaultCachingClientCreator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	badApp, err := bad.NewAppClient()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := badApp.Apps.Get(ctx, ""); statusOf(err) != http.StatusUnauthorized {
		t.Errorf("foreign key: %v", err)
	}
	if resp := rawRequest(t, s, "GET", "repos/acme/widgets", "", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous: %d", resp.StatusCode)
	}
	// A user token acts as the human, everywhere.
	human := s.UserToken("alice")
	if resp := rawRequest(t, s, "POST", "repos/other/secret/issues", "token "+human, `{"title":"hi"}`); resp.StatusCode != http.StatusCreated {
		t.Errorf("user token: %d", resp.StatusCode)
	}
	if is := s.Issues("other/secret"); len(is) != 1 || is[0].User != "alice" {
		t.Errorf("issues = %+v", is)
	}
}

func TestViolations(t *testing.T) {
	e := setup(t)
	s := e.s
	app, err := e.cc.NewAppClient()
	if err != nil {
		t.Fatal(err)
	}
	tok := must[*github.InstallationToken](t)(app.Apps.CreateInstallationToken(e.ctx, testInstID, nil))
	auth := "token " + tok.GetToken()
	head := s.Commit(fullName, "tend/x", map[string]string{"a": "1"}, nil, "alice", "x")
	cases := []struct {
		method, path, body string
		status             int
		reason             string
	}{
		{"POST", "repos/acme/widgets/pulls", `{"title": 123, "head": "x", "base": "main"}`, 422, "title"},
		{"POST", "repos/acme/widgets/pulls", `{"title": "x", "head": `, 400, "not valid JSON"},
		{"GET", "repos/acme/widgets/frobnicate", "", 422, "no path"},
		{"PUT", "repos/acme/widgets", "", 422, "not with this method"},
		{"GET", "repos/acme/widgets/pulls?per_page=many", "", 422, "per_page"},
		{"POST", "repos/acme/widgets/check-runs", `{"name": "x", "head_sha": "abc", "status": "exploded"}`, 422, "status"},
		{"GET", "repos/acme/widgets", `{"unexpected": "body"}`, 422, "body not allowed"},
		// Fields GitHub ignores: served, but reported.
		{"POST", "repos/acme/widgets/pulls", `{"title": "x", "head": "tend/x", "base": "main", "labels": ["a"]}`, 201, "doesn't take (GitHub ignores them): /labels"},
		{"POST", "repos/acme/widgets/check-runs", `{"name": "x", "head_sha": "` + head + `", "output": {"title": "t", "summary": "s", "summery": "typo"}}`, 201, "/output/summery"},
	}
	for _, tc := range cases {
		resp := rawRequest(t, s, tc.method, tc.path, auth, tc.body)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, resp.StatusCode, body)
		}
		v := s.TakeViolations()
		if len(v) != 1 || !strings.Contains(v[0], tc.reason) {
			t.Errorf("%s %s: violations %q, want one mentioning %q", tc.method, tc.path, v, tc.reason)
		}
	}
	// Valid requests for operations the fake doesn't implement: 404, no
	// violation.
	if resp := rawRequest(t, s, "GET", "repos/acme/widgets/hooks", auth, ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unimplemented: %d", resp.StatusCode)
	}
	if v := s.Violations(); len(v) != 0 {
		t.Errorf("violations = %v", v)
	}
}

func TestFaults(t *testing.T) {
	e := setup(t)
	ctx, c, s := e.ctx, e.client, e.s
	s.Fail("GET", "/repos/{owner}/{repo}", 1, http.StatusBadGateway, nil)
	if _, _, err := c.Repositories.Get(ctx, owner, repoName); statusOf(err) != http.StatusBadGateway {
		t.Errorf("injected 502: %v", err)
	}
	must[*github.Repository](t)(c.Repositories.Get(ctx, owner, repoName))

	s.Fail("POST", "/repos/acme/widgets/**", 1, http.StatusForbidden, map[string]string{"Retry-After": "7"})
	n := s.AddIssue(fullName, 0, "x", "", "alice", nil)
	_, _, err := c.Issues.CreateComment(ctx, owner, repoName, n, &github.IssueComment{Body: github.Ptr("hi")})
	var abuse *github.AbuseRateLimitError
	if !errors.As(err, &abuse) || abuse.GetRetryAfter() != 7*time.Second {
		t.Errorf("secondary rate limit: %T %v", err, err)
	}
	// go-github now refuses to send for 7 s; bypass its client-side check.
	bypass := context.WithValue(ctx, github.BypassRateLimitCheck, true)
	must[*github.IssueComment](t)(c.Issues.CreateComment(bypass, owner, repoName, n, &github.IssueComment{Body: github.Ptr("hi")}))

	s.Fail("*", "/repos/*/*/pulls", 2, http.StatusTooManyRequests, nil)
	for i := 0; i < 2; i++ {
		if _, _, err := c.PullRequests.List(bypass, owner, repoName, nil); statusOf(err) != http.StatusTooManyRequests && !errors.As(err, &abuse) {
			t.Errorf("429 #%d: %v", i, err)
		}
	}
	must[[]*github.PullRequest](t)(c.PullRequests.List(bypass, owner, repoName, nil))
	if len(s.Comments(fullName, n)) != 1 {
		t.Errorf("a faulted request changed state")
	}
}

type hookEvent struct {
	event, action, sender, senderType string
	installation                      int64
	payload                           any
}

func TestWebhooks(t *testing.T) {
	e := setup(t)
	ctx, c, s := e.ctx, e.client, e.s
	const secret = "s3cret"
	var mu sync.Mutex
	var got []hookEvent
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		payload, err := github.ValidatePayload(r, []byte(secret))
		if err != nil {
			t.Errorf("signature: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ev, err := github.ParseWebHook(github.WebHookType(r), payload)
		if err != nil {
			t.Errorf("parse %s: %v", github.WebHookType(r), err)
		}
		if github.DeliveryID(r) == "" {
			t.Errorf("no delivery id")
		}
		var head struct {
			Action string `json:"action"`
			Sender struct {
				Login string `json:"login"`
				Type  string `json:"type"`
			} `json:"sender"`
			Installation struct {
				ID int64 `json:"id"`
			} `json:"installation"`
		}
		_ = json.Unmarshal(payload, &head)
		mu.Lock()
		got = append(got, hookEvent{github.WebHookType(r), head.Action, head.Sender.Login, head.Sender.Type, head.Installation.ID, ev})
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer recv.Close()
	s.SetWebhooks(recv.URL, secret)

	s.Commit(fullName, "main", map[string]string{"deploy/app.yaml": "image: nginx:1.26\n"}, []string{"README.md"}, "alice", "bump")
	mainSHA, _ := s.Branch(fullName, "main")
	must[*github.Reference](t)(c.Git.CreateRef(ctx, owner, repoName, github.CreateRef{Ref: "refs/heads/tend/pin", SHA: mainSHA}))
	tip := s.Commit(fullName, "tend/pin", map[string]string{"deploy/app.yaml": "image: nginx@sha256:1\n"}, nil, "alice", "pin")
	pr := must[*github.PullRequest](t)(c.PullRequests.Create(ctx, owner, repoName, &github.NewPullRequest{
		Title: github.Ptr("Pin"), Head: github.Ptr("tend/pin"), Base: github.Ptr("main"), Body: github.Ptr("body"),
	}))
	s.AddComment(fullName, pr.GetNumber(), "alice", "/reconcile")
	must[*github.CheckRun](t)(c.Checks.CreateCheckRun(ctx, owner, repoName, github.CreateCheckRunOptions{Name: "tend", HeadSHA: tip}))
	if err := s.MergePR(fullName, pr.GetNumber(), "alice"); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitWebhooksDelivered(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	var seq []string
	for _, h := range got {
		seq = append(seq, strings.TrimSuffix(h.event+":"+h.action, ":")+"@"+h.sender)
		if h.installation != testInstID {
			t.Errorf("%s without installation", h.event)
		}
	}
	want := []string{
		"push@alice",     // Commit on main
		"push@tend[bot]", // CreateRef
		"push@alice",     // Commit on tend/pin
		"pull_request:opened@tend[bot]",
		"issue_comment:created@alice",
		"check_run:created@tend[bot]",
		"push@alice", // the merge moves main
		"pull_request:closed@alice",
	}
	if strings.Join(seq, " ") != strings.Join(want, " ") {
		t.Fatalf("events:\n got %v\nwant %v", seq, want)
	}
	if got[1].senderType != "Bot" || got[0].senderType != "User" {
		t.Errorf("sender types: %s %s", got[0].senderType, got[1].senderType)
	}
	push := got[0].payload.(*github.PushEvent)
	if push.GetRef() != "refs/heads/main" || len(push.Commits) != 1 || push.GetRepo().GetDefaultBranch() != "main" ||
		strings.Join(push.Commits[0].Modified, ",") != "deploy/app.yaml" || strings.Join(push.Commits[0].Removed, ",") != "README.md" ||
		push.GetHeadCommit().GetID() != mainSHA {
		t.Errorf("push = %+v", push)
	}
	created := got[1].payload.(*github.PushEvent)
	if !created.GetCreated() || created.GetBefore() != zeroSHA || len(created.Commits) != 0 {
		t.Errorf("branch creation push: created=%v before=%s commits=%d", created.GetCreated(), created.GetBefore(), len(created.Commits))
	}
	opened := got[3].payload.(*github.PullRequestEvent)
	if opened.GetPullRequest().GetHead().GetRef() != "tend/pin" || opened.GetPullRequest().GetBody() != "body" ||
		opened.GetPullRequest().GetUser().GetLogin() != "tend[bot]" {
		t.Errorf("opened = %+v", opened.GetPullRequest())
	}
	comment := got[4].payload.(*github.IssueCommentEvent)
	if !comment.GetIssue().IsPullRequest() || comment.GetComment().GetBody() != "/reconcile" {
		t.Errorf("comment = %+v", comment)
	}
	closed := got[7].payload.(*github.PullRequestEvent)
	if !closed.GetPullRequest().GetMerged() {
		t.Errorf("closed PR not merged")
	}
	for _, d := range s.Deliveries() {
		if d.Status != http.StatusAccepted || d.Err != "" {
			t.Errorf("delivery %s %s: %d %s", d.Event, d.ID, d.Status, d.Err)
		}
	}
}

// TestWebhookSynchronize covers pull_request synchronize on an API push and
// closing when the head branch is deleted.
func TestWebhookSynchronize(t *testing.T) {
	e := setup(t)
	ctx, c, s := e.ctx, e.client, e.s
	var mu sync.Mutex
	var events []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		payload, err := github.ValidatePayload(r, []byte("k"))
		if err != nil {
			t.Errorf("signature: %v", err)
		}
		var head struct {
			Action string `json:"action"`
		}
		_ = json.Unmarshal(payload, &head)
		mu.Lock()
		events = append(events, github.WebHookType(r)+":"+head.Action)
		mu.Unlock()
	}))
	defer recv.Close()
	s.Commit(fullName, "tend/x", map[string]string{"a": "1"}, nil, "alice", "x")
	pr := must[*github.PullRequest](t)(c.PullRequests.Create(ctx, owner, repoName, &github.NewPullRequest{Title: github.Ptr("x"), Head: github.Ptr("tend/x"), Base: github.Ptr("main")}))
	s.SetWebhooks(recv.URL, "k") // only what follows is delivered
	next := s.Commit(fullName, "tmp", map[string]string{"a": "2"}, nil, "alice", "y")
	must[*github.Reference](t)(c.Git.UpdateRef(ctx, owner, repoName, "heads/tend/x", github.UpdateRef{SHA: next, Force: github.Ptr(true)}))
	if _, err := c.Git.DeleteRef(ctx, owner, repoName, "heads/tend/x"); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitWebhooksDelivered(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := "push: push: pull_request:synchronize push: pull_request:closed"
	if strings.Join(events, " ") != want {
		t.Errorf("events = %v, want %s", events, want)
	}
	if prs := s.PullRequests(fullName); prs[0].Number != pr.GetNumber() || prs[0].State != "closed" || prs[0].Merged {
		t.Errorf("PR = %+v", prs[0])
	}
}

// TestManyRequests checks the per-request cost stays small.
func TestManyRequests(t *testing.T) {
	e := setup(t)
	ctx, c := e.ctx, e.client
	const n = 2000
	start := time.Now()
	for i := 0; i < n; i++ {
		if i%10 == 0 {
			must[*github.Blob](t)(c.Git.CreateBlob(ctx, owner, repoName, github.Blob{Content: github.Ptr(fmt.Sprint(i)), Encoding: github.Ptr("utf-8")}))
			continue
		}
		if _, _, _, err := c.Repositories.GetContents(ctx, owner, repoName, "deploy/nested/x.txt", nil); err != nil {
			t.Fatal(err)
		}
	}
	d := time.Since(start)
	t.Logf("%d requests in %v (%v each)", n, d, d/n)
	if d > 30*time.Second {
		t.Errorf("too slow: %v", d)
	}
}
