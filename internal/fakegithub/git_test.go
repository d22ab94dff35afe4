package fakegithub

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"
)

// TestGitObjectHashes checks the SHAs against values computed by git:
//
//	printf 'hello\n' | git hash-object --stdin
//	(hello.txt + a/b/c.txt containing "x") | git write-tree
//	git commit-tree <tree> -m msg   (alice, 2024-01-02T03:04:05Z)
func TestGitObjectHashes(t *testing.T) {
	e := setup(t)
	ctx, c := e.ctx, e.client
	blob := must[*github.Blob](t)(c.Git.CreateBlob(ctx, owner, repoName, github.Blob{Content: github.Ptr("hello\n"), Encoding: github.Ptr("utf-8")}))
	if got, want := blob.GetSHA(), "ce013625030ba8dba906f756967f9e9ca394464a"; got != want {
		t.Errorf("blob sha = %s, want %s", got, want)
	}
	b64 := must[*github.Blob](t)(c.Git.CreateBlob(ctx, owner, repoName, github.Blob{Content: github.Ptr("eA=="), Encoding: github.Ptr("base64")}))
	if got, want := b64.GetSHA(), "c1b0730e0133447badcfd47fd144e254807b06e1"; got != want {
		t.Errorf("base64 blob sha = %s, want %s", got, want)
	}
	tree := must[*github.Tree](t)(c.Git.CreateTree(ctx, owner, repoName, "", []*github.TreeEntry{
		{Path: github.Ptr("hello.txt"), Mode: github.Ptr("100644"), Type: github.Ptr("blob"), SHA: blob.SHA},
		{Path: github.Ptr("a/b/c.txt"), Mode: github.Ptr("100644"), Type: github.Ptr("blob"), Content: github.Ptr("x")},
	}))
	if got, want := tree.GetSHA(), "0fd1110f3c8d82ed7bc2297f684944e449cf49cd"; got != want {
		t.Errorf("tree sha = %s, want %s", got, want)
	}
	date := github.Timestamp{Time: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
	alice := &github.CommitAuthor{Name: github.Ptr("alice"), Email: github.Ptr("alice@example.com"), Date: &date}
	commit := must[*github.Commit](t)(c.Git.CreateCommit(ctx, owner, repoName, github.Commit{
		Message: github.Ptr("msg\n"), Tree: &github.Tree{SHA: tree.SHA}, Author: alice, Committer: alice,
	}, nil))
	if got, want := commit.GetSHA(), "577ae6744e186ae7b2beaf0f0992cf44bfac9e45"; got != want {
		t.Errorf("commit sha = %s, want %s", got, want)
	}
	if commit.GetVerification().GetVerified() {
		t.Errorf("a commit claiming a human committer must not be verified")
	}
}

func TestGitDataRoundTrip(t *testing.T) {
	e := setup(t)
	ctx, c := e.ctx, e.client
	mainRef := must[*github.Reference](t)(c.Git.GetRef(ctx, owner, repoName, "heads/main"))
	base := must[*github.Commit](t)(c.Git.GetCommit(ctx, owner, repoName, mainRef.GetObject().GetSHA()))

	// A tree on top of main: one new nested file, one modified, one deleted.
	tree := must[*github.Tree](t)(c.Git.CreateTree(ctx, owner, repoName, base.GetTree().GetSHA(), []*github.TreeEntry{
		{Path: github.Ptr("docs/guide/intro.md"), Mode: github.Ptr("100644"), Type: github.Ptr("blob"), Content: github.Ptr("# Intro\n")},
		{Path: github.Ptr("deploy/app.yaml"), Mode: github.Ptr("100644"), Type: github.Ptr("blob"), Content: github.Ptr("image: nginx@sha256:abc\n")},
		{Path: github.Ptr("deploy/nested/x.txt")}, // SHA and Content nil: "sha": null deletes
	}))
	commit := must[*github.Commit](t)(c.Git.CreateCommit(ctx, owner, repoName, github.Commit{
		Message: github.Ptr("Pin images"), Tree: &github.Tree{SHA: tree.SHA}, Parents: []*github.Commit{{SHA: base.SHA}},
	}, nil))
	if !commit.GetVerification().GetVerified() {
		t.Errorf("bot commit not verified: %+v", commit.GetVerification())
	}
	if got := commit.GetAuthor().GetName(); got != "tend[bot]" {
		t.Errorf("author = %q", got)
	}
	ref := must[*github.Reference](t)(c.Git.CreateRef(ctx, owner, repoName, github.CreateRef{Ref: "refs/heads/tend/pin-images", SHA: commit.GetSHA()}))
	if ref.GetRef() != "refs/heads/tend/pin-images" {
		t.Errorf("ref = %q", ref.GetRef())
	}

	// Read everything back.
	got := must[*github.Reference](t)(c.Git.GetRef(ctx, owner, repoName, "refs/heads/tend/pin-images"))
	if got.GetObject().GetSHA() != commit.GetSHA() {
		t.Errorf("GetRef = %s, want %s", got.GetObject().GetSHA(), commit.GetSHA())
	}
	refs := must[[]*github.Reference](t)(c.Git.ListMatchingRefs(ctx, owner, repoName, "heads/tend/"))
	if len(refs) != 1 {
		t.Errorf("matching refs = %d", len(refs))
	}
	full := must[*github.Tree](t)(c.Git.GetTree(ctx, owner, repoName, commit.GetSHA(), true))
	paths := map[string]string{}
	for _, en := range full.Entries {
		paths[en.GetPath()] = en.GetType()
	}
	for p, typ := range map[string]string{"README.md": "blob", "docs": "tree", "docs/guide": "tree", "docs/guide/intro.md": "blob", "deploy/app.yaml": "blob"} {
		if paths[p] != typ {
			t.Errorf("tree entry %s = %q, want %s (all: %v)", p, paths[p], typ, paths)
		}
	}
	if _, ok := paths["deploy/nested"]; ok {
		t.Errorf("emptied directory deploy/nested still listed")
	}
	gc := must[*github.Commit](t)(c.Git.GetCommit(ctx, owner, repoName, commit.GetSHA()))
	if gc.GetMessage() != "Pin images" || len(gc.Parents) != 1 || gc.Parents[0].GetSHA() != base.GetSHA() {
		t.Errorf("GetCommit = %+v", gc)
	}
	if v, ok := e.s.File(fullName, "tend/pin-images", "deploy/app.yaml"); !ok || v != "image: nginx@sha256:abc\n" {
		t.Errorf("File = %q %v", v, ok)
	}
	if _, ok := e.s.File(fullName, "tend/pin-images", "deploy/nested/x.txt"); ok {
		t.Errorf("deleted file still present")
	}
	for _, en := range full.Entries {
		if en.GetPath() == "docs/guide/intro.md" {
			b := must[*github.Blob](t)(c.Git.GetBlob(ctx, owner, repoName, en.GetSHA()))
			if b.GetSize() != len("# Intro\n") || b.GetEncoding() != "base64" {
				t.Errorf("blob = %+v", b)
			}
		}
	}

	// Errors as GitHub answers them.
	if _, _, err := c.Git.CreateRef(ctx, owner, repoName, github.CreateRef{Ref: "refs/heads/tend/pin-images", SHA: commit.GetSHA()}); statusOf(err) != http.StatusUnprocessableEntity {
		t.Errorf("duplicate ref: %v", err)
	}
	if _, _, err := c.Git.GetRef(ctx, owner, repoName, "heads/nope"); statusOf(err) != http.StatusNotFound {
		t.Errorf("missing ref: %v", err)
	}
	if _, _, err := c.Git.CreateCommit(ctx, owner, repoName, github.Commit{
		Message: github.Ptr("x"), Tree: &github.Tree{SHA: github.Ptr(strings.Repeat("a", 40))},
	}, nil); statusOf(err) != http.StatusUnprocessableEntity {
		t.Errorf("commit with unknown tree: %v", err)
	}
	if _, err := c.Git.DeleteRef(ctx, owner, repoName, "heads/tend/pin-images"); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.s.Branch(fullName, "tend/pin-images"); ok {
		t.Errorf("branch survived DeleteRef")
	}
}

func TestUpdateRefForce(t *testing.T) {
	e := setup(t)
	ctx, c := e.ctx, e.client
	s := e.s
	first := s.Commit(fullName, "tend/x", map[string]string{"a.txt": "1"}, nil, "alice", "one")
	second := s.Commit(fullName, "tend/x", map[string]string{"a.txt": "2"}, nil, "alice", "two")
	// Rewinding is not a fast-forward.
	_, _, err := c.Git.UpdateRef(ctx, owner, repoName, "refs/heads/tend/x", github.UpdateRef{SHA: first})
	if statusOf(err) != http.StatusUnprocessableEntity || !strings.Contains(err.Error(), "fast forward") {
		t.Fatalf("non-fast-forward without force: %v", err)
	}
	ref := must[*github.Reference](t)(c.Git.UpdateRef(ctx, owner, repoName, "heads/tend/x", github.UpdateRef{SHA: first, Force: github.Ptr(true)}))
	if ref.GetObject().GetSHA() != first {
		t.Errorf("forced update = %s", ref.GetObject().GetSHA())
	}
	// Fast-forward works without force.
	must[*github.Reference](t)(c.Git.UpdateRef(ctx, owner, repoName, "heads/tend/x", github.UpdateRef{SHA: second}))
	if sha, _ := s.Branch(fullName, "tend/x"); sha != second {
		t.Errorf("branch = %s, want %s", sha, second)
	}
}

func TestTreeTruncation(t *testing.T) {
	e := setup(t, WithTreeTruncateAt(5))
	files := map[string]string{}
	for i := 0; i < 12; i++ {
		files[fmt.Sprintf("many/f%02d.txt", i)] = fmt.Sprint(i)
	}
	sha := e.s.Commit(fullName, "main", files, nil, "alice", "many files")
	tr := must[*github.Tree](t)(e.client.Git.GetTree(e.ctx, owner, repoName, sha, true))
	if !tr.GetTruncated() || len(tr.Entries) != 5 {
		t.Errorf("truncated=%v entries=%d", tr.GetTruncated(), len(tr.Entries))
	}
	// Non-recursive listings of small trees are complete.
	top := must[*github.Tree](t)(e.client.Git.GetTree(e.ctx, owner, repoName, "main", false))
	if top.GetTruncated() || len(top.Entries) != 3 {
		t.Errorf("top-level: truncated=%v entries=%d", top.GetTruncated(), len(top.Entries))
	}
}

func TestContents(t *testing.T) {
	e := setup(t)
	ctx, c := e.ctx, e.client
	s := e.s
	s.Commit(fullName, "feature/deep", map[string]string{"a/b/c/d.txt": "deep\n"}, nil, "alice", "deep")
	f, _, _, err := c.Repositories.GetContents(ctx, owner, repoName, "deploy/nested/x.txt", nil)
	if err != nil {
		t.Fatal(err)
	}
	if body, _ := f.GetContent(); body != "x\n" || f.GetPath() != "deploy/nested/x.txt" || f.GetName() != "x.txt" {
		t.Errorf("file = %+v", f)
	}
	f, _, _, err = c.Repositories.GetContents(ctx, owner, repoName, "a/b/c/d.txt", &github.RepositoryContentGetOptions{Ref: "feature/deep"})
	if err != nil {
		t.Fatal(err)
	}
	if body, _ := f.GetContent(); body != "deep\n" {
		t.Errorf("deep file = %q", body)
	}
	_, dir, _, err := c.Repositories.GetContents(ctx, owner, repoName, "deploy", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(dir) != 2 || dir[0].GetType() != "file" || dir[1].GetType() != "dir" {
		t.Errorf("dir = %v", dir)
	}
	_, root, _, err := c.Repositories.GetContents(ctx, owner, repoName, "", nil)
	if err != nil || len(root) != 2 {
		t.Errorf("root = %v, %v", root, err)
	}
	if _, _, _, err := c.Repositories.GetContents(ctx, owner, repoName, "nope/missing.txt", nil); statusOf(err) != http.StatusNotFound {
		t.Errorf("missing file: %v", err)
	}
	rc, _, err := c.Repositories.DownloadContents(ctx, owner, repoName, "deploy/app.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	buf := new(strings.Builder)
	if _, err := fmt.Fprint(buf, readAll(t, rc)); err != nil || buf.String() != "image: nginx:1.25\n" {
		t.Errorf("download = %q", buf.String())
	}
	// Branches with slashes, escaped by go-github as %2F.
	br := must[*github.Branch](t)(c.Repositories.GetBranch(ctx, owner, repoName, "feature/deep", 0))
	if sha, _ := s.Branch(fullName, "feature/deep"); br.GetCommit().GetSHA() != sha {
		t.Errorf("branch = %+v", br)
	}
	repo := must[*github.Repository](t)(c.Repositories.Get(ctx, "ACME", "Widgets")) // case-insensitive
	if repo.GetDefaultBranch() != "main" || repo.GetFullName() != fullName || !repo.GetPrivate() {
		t.Errorf("repo = %+v", repo)
	}
}

func TestCompareAndCommits(t *testing.T) {
	e := setup(t)
	ctx, c := e.ctx, e.client
	s := e.s
	s.Commit(fullName, "tend/x", map[string]string{"deploy/app.yaml": "image: nginx@sha256:1\n", "new.txt": "n\n"}, []string{"README.md"}, "alice", "change")
	s.Commit(fullName, "tend/x", map[string]string{"moved/x.txt": "x\n"}, []string{"deploy/nested/x.txt"}, "alice", "move")
	cmp := must[*github.CommitsComparison](t)(c.Repositories.CompareCommits(ctx, owner, repoName, "main", "tend/x", nil))
	if cmp.GetStatus() != "ahead" || cmp.GetAheadBy() != 2 || cmp.GetBehindBy() != 0 || len(cmp.Commits) != 2 {
		t.Errorf("compare: status=%s ahead=%d behind=%d commits=%d", cmp.GetStatus(), cmp.GetAheadBy(), cmp.GetBehindBy(), len(cmp.Commits))
	}
	status := map[string]string{}
	for _, f := range cmp.Files {
		status[f.GetFilename()] = f.GetStatus() + ":" + f.GetPreviousFilename()
	}
	want := map[string]string{
		"deploy/app.yaml": "modified:", "new.txt": "added:", "README.md": "removed:", "moved/x.txt": "renamed:deploy/nested/x.txt",
	}
	for k, v := range want {
		if status[k] != v {
			t.Errorf("file %s = %q, want %q (all %v)", k, status[k], v, status)
		}
	}
	s.Commit(fullName, "main", map[string]string{"other.txt": "o\n"}, nil, "bob", "main moves")
	cmp = must[*github.CommitsComparison](t)(c.Repositories.CompareCommits(ctx, owner, repoName, "main", "tend/x", nil))
	if cmp.GetStatus() != "diverged" || cmp.GetBehindBy() != 1 {
		t.Errorf("compare after main moved: %s behind=%d", cmp.GetStatus(), cmp.GetBehindBy())
	}
	cmp = must[*github.CommitsComparison](t)(c.Repositories.CompareCommits(ctx, owner, repoName, "tend/x", "tend/x", nil))
	if cmp.GetStatus() != "identical" {
		t.Errorf("identical: %s", cmp.GetStatus())
	}

	// Over 300 changed files: GitHub lists 300.
	many := map[string]string{}
	for i := 0; i < 320; i++ {
		many[fmt.Sprintf("bulk/%03d.txt", i)] = "v\n"
	}
	s.Commit(fullName, "bulk", many, nil, "alice", "bulk")
	cmp = must[*github.CommitsComparison](t)(c.Repositories.CompareCommits(ctx, owner, repoName, "main", "bulk", nil))
	if len(cmp.Files) != 300 {
		t.Errorf("files = %d, want 300", len(cmp.Files))
	}

	// Commit listing with path filter and pagination through Link headers.
	for i := 0; i < 5; i++ {
		s.Commit(fullName, "main", map[string]string{"counter.txt": fmt.Sprint(i)}, nil, "alice", fmt.Sprintf("count %d", i))
	}
	opts := &github.CommitsListOptions{SHA: "main", Path: "counter.txt", ListOptions: github.ListOptions{PerPage: 2}}
	var msgs []string
	for {
		list, resp, err := c.Repositories.ListCommits(ctx, owner, repoName, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, rc := range list {
			msgs = append(msgs, rc.GetCommit().GetMessage())
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if strings.Join(msgs, ",") != "count 4,count 3,count 2,count 1,count 0" {
		t.Errorf("commits = %v", msgs)
	}
	last := e.s.CommitsOn(fullName, "main")[0]
	rc := must[*github.RepositoryCommit](t)(c.Repositories.GetCommit(ctx, owner, repoName, last.SHA, nil))
	if len(rc.Files) != 1 || rc.Files[0].GetFilename() != "counter.txt" || rc.GetAuthor().GetLogin() != "alice" {
		t.Errorf("GetCommit = files %v author %v", rc.Files, rc.GetAuthor())
	}
	if !strings.Contains(rc.Files[0].GetPatch(), "-3\n\\ No newline at end of file\n+4") {
		t.Errorf("patch = %q", rc.Files[0].GetPatch())
	}
}

func TestPullRequests(t *testing.T) {
	e := setup(t)
	ctx, c := e.ctx, e.client
	s := e.s
	s.Commit(fullName, "tend/pin", map[string]string{"deploy/app.yaml": "image: nginx@sha256:1\n"}, nil, "alice", "pin")
	pr := must[*github.PullRequest](t)(c.PullRequests.Create(ctx, owner, repoName, &github.NewPullRequest{
		Title: github.Ptr("Pin images"), Head: github.Ptr("tend/pin"), Base: github.Ptr("main"), Body: github.Ptr("key: acme/widgets:pin-images:deploy/app.yaml"),
	}))
	if pr.GetNumber() != 1 || pr.GetUser().GetLogin() != "tend[bot]" || pr.GetUser().GetType() != "Bot" || !pr.GetMergeable() {
		t.Errorf("created PR = #%d by %s (%s) mergeable=%v", pr.GetNumber(), pr.GetUser().GetLogin(), pr.GetUser().GetType(), pr.GetMergeable())
	}
	if pr.GetHead().GetRef() != "tend/pin" || pr.GetBase().GetRef() != "main" || pr.GetHTMLURL() == "" || pr.GetNodeID() == "" {
		t.Errorf("PR = %+v", pr)
	}
	_, _, err := c.PullRequests.Create(ctx, owner, repoName, &github.NewPullRequest{
		Title: github.Ptr("again"), Head: github.Ptr("tend/pin"), Base: github.Ptr("main"),
	})
	if statusOf(err) != http.StatusUnprocessableEntity || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("duplicate PR: %v", err)
	}
	if _, _, err := c.PullRequests.Create(ctx, owner, repoName, &github.NewPullRequest{
		Title: github.Ptr("x"), Head: github.Ptr("nope"), Base: github.Ptr("main"),
	}); statusOf(err) != http.StatusUnprocessableEntity {
		t.Errorf("PR from missing head: %v", err)
	}

	list := must[[]*github.PullRequest](t)(c.PullRequests.List(ctx, owner, repoName, &github.PullRequestListOptions{Head: "acme:tend/pin", State: "open"}))
	if len(list) != 1 || list[0].GetNumber() != 1 {
		t.Errorf("list by head = %v", list)
	}
	if none := must[[]*github.PullRequest](t)(c.PullRequests.List(ctx, owner, repoName, &github.PullRequestListOptions{Head: "acme:other"})); len(none) != 0 {
		t.Errorf("list by other head = %d", len(none))
	}
	// Like GitHub, a head without "owner:" is silently ignored.
	if all := must[[]*github.PullRequest](t)(c.PullRequests.List(ctx, owner, repoName, &github.PullRequestListOptions{Head: "other"})); len(all) != 1 {
		t.Errorf("list by bare head = %d, want the filter ignored", len(all))
	}

	edited := must[*github.PullRequest](t)(c.PullRequests.Edit(ctx, owner, repoName, 1, &github.PullRequest{Title: github.Ptr("Pin images (2)"), Body: github.Ptr("new body")}))
	if edited.GetTitle() != "Pin images (2)" || edited.GetBody() != "new body" {
		t.Errorf("edited = %q %q", edited.GetTitle(), edited.GetBody())
	}
	commits := must[[]*github.RepositoryCommit](t)(c.PullRequests.ListCommits(ctx, owner, repoName, 1, nil))
	files := must[[]*github.CommitFile](t)(c.PullRequests.ListFiles(ctx, owner, repoName, 1, nil))
	if len(commits) != 1 || len(files) != 1 || files[0].GetFilename() != "deploy/app.yaml" || files[0].GetAdditions() != 1 || files[0].GetDeletions() != 1 {
		t.Errorf("commits=%d files=%v", len(commits), files)
	}

	// A conflicting change on main makes it unmergeable.
	s.Commit(fullName, "main", map[string]string{"deploy/app.yaml": "image: nginx:1.26\n"}, nil, "bob", "bump")
	got := must[*github.PullRequest](t)(c.PullRequests.Get(ctx, owner, repoName, 1))
	if got.GetMergeable() || got.GetMergeableState() != "dirty" {
		t.Errorf("mergeable after conflict = %v %s", got.GetMergeable(), got.GetMergeableState())
	}
	if _, _, err := c.PullRequests.Merge(ctx, owner, repoName, 1, "", nil); statusOf(err) != http.StatusMethodNotAllowed {
		t.Errorf("merge with conflict: %v", err)
	}
	// Force-push a resolution on top of main, then merge by API.
	tip := s.Commit(fullName, "tmp", map[string]string{"deploy/app.yaml": "image: nginx@sha256:2\n"}, nil, "alice", "repin")
	must[*github.Reference](t)(c.Git.UpdateRef(ctx, owner, repoName, "heads/tend/pin", github.UpdateRef{SHA: tip, Force: github.Ptr(true)}))
	got = must[*github.PullRequest](t)(c.PullRequests.Get(ctx, owner, repoName, 1))
	if !got.GetMergeable() || got.GetHead().GetSHA() != tip {
		t.Errorf("after force-push: mergeable=%v head=%s", got.GetMergeable(), got.GetHead().GetSHA())
	}
	res := must[*github.PullRequestMergeResult](t)(c.PullRequests.Merge(ctx, owner, repoName, 1, "", &github.PullRequestOptions{MergeMethod: "squash"}))
	if !res.GetMerged() {
		t.Fatalf("merge = %+v", res)
	}
	if v, _ := s.File(fullName, "main", "deploy/app.yaml"); v != "image: nginx@sha256:2\n" {
		t.Errorf("main after merge = %q", v)
	}
	prs := s.PullRequests(fullName)
	if len(prs) != 1 || !prs[0].Merged || prs[0].State != "closed" || prs[0].Title != "Pin images (2)" || prs[0].User != "tend[bot]" {
		t.Errorf("PullRequests = %+v", prs)
	}

	// A human PR merged like the UI produces a two-parent merge commit.
	s.Commit(fullName, "human", map[string]string{"h.txt": "h\n"}, nil, "carol", "human change")
	n, err := s.OpenPR(fullName, "human", "main", "Human", "", "carol")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.MergePR(fullName, n, "carol"); err != nil {
		t.Fatal(err)
	}
	head := s.CommitsOn(fullName, "main")[0]
	if len(head.Parents) != 2 || !head.Verified || head.Committer != "GitHub" {
		t.Errorf("merge commit = %+v", head)
	}
	closed := must[[]*github.PullRequest](t)(c.PullRequests.List(ctx, owner, repoName, &github.PullRequestListOptions{State: "closed"}))
	if len(closed) != 2 {
		t.Errorf("closed PRs = %d", len(closed))
	}
}

func TestCheckRuns(t *testing.T) {
	e := setup(t)
	ctx, c := e.ctx, e.client
	sha := e.s.Commit(fullName, "tend/x", map[string]string{"a": "1"}, nil, "alice", "x")
	cr := must[*github.CheckRun](t)(c.Checks.CreateCheckRun(ctx, owner, repoName, github.CreateCheckRunOptions{
		Name: "tend/pin-images", HeadSHA: sha, Status: github.Ptr("in_progress"), ExternalID: github.Ptr("key-1"),
		Output: &github.CheckRunOutput{Title: github.Ptr("Working"), Summary: github.Ptr("…")},
	}))
	if cr.GetStatus() != "in_progress" || cr.GetApp().GetID() != testAppID {
		t.Errorf("created = %+v", cr)
	}
	ann := func(n int) []*github.CheckRunAnnotation {
		var out []*github.CheckRunAnnotation
		for i := 0; i < n; i++ {
			out = append(out, &github.CheckRunAnnotation{Path: github.Ptr("a"), StartLine: github.Ptr(1), EndLine: github.Ptr(1), AnnotationLevel: github.Ptr("warning"), Message: github.Ptr(fmt.Sprint(i))})
		}
		return out
	}
	for i := 0; i < 2; i++ {
		must[*github.CheckRun](t)(c.Checks.UpdateCheckRun(ctx, owner, repoName, cr.GetID(), github.UpdateCheckRunOptions{
			Name:   "tend/pin-images",
			Output: &github.CheckRunOutput{Title: github.Ptr("Done"), Summary: github.Ptr("All pinned"), Annotations: ann(50)},
		}))
	}
	done := must[*github.CheckRun](t)(c.Checks.UpdateCheckRun(ctx, owner, repoName, cr.GetID(), github.UpdateCheckRunOptions{
		Name: "tend/pin-images", Conclusion: github.Ptr("success"),
		Actions: []*github.CheckRunAction{{Label: "Reconcile", Description: "Run tend again", Identifier: "reconcile"}},
	}))
	if done.GetStatus() != "completed" || done.GetConclusion() != "success" || done.GetOutput().GetAnnotationsCount() != 100 || done.CompletedAt == nil {
		t.Errorf("updated = status %s conclusion %s annotations %d", done.GetStatus(), done.GetConclusion(), done.GetOutput().GetAnnotationsCount())
	}
	// A second run with the same name: filter=latest shows only it.
	must[*github.CheckRun](t)(c.Checks.CreateCheckRun(ctx, owner, repoName, github.CreateCheckRunOptions{Name: "tend/pin-images", HeadSHA: sha}))
	must[*github.CheckRun](t)(c.Checks.CreateCheckRun(ctx, owner, repoName, github.CreateCheckRunOptions{Name: "other", HeadSHA: sha}))
	res := must[*github.ListCheckRunsResults](t)(c.Checks.ListCheckRunsForRef(ctx, owner, repoName, "tend/x", &github.ListCheckRunsOptions{CheckName: github.Ptr("tend/pin-images")}))
	if res.GetTotal() != 1 || res.CheckRuns[0].GetStatus() != "queued" {
		t.Errorf("latest = %d runs", res.GetTotal())
	}
	all := must[*github.ListCheckRunsResults](t)(c.Checks.ListCheckRunsForRef(ctx, owner, repoName, sha, &github.ListCheckRunsOptions{Filter: github.Ptr("all"), AppID: github.Ptr(int64(testAppID))}))
	if all.GetTotal() != 3 {
		t.Errorf("all = %d runs", all.GetTotal())
	}
	runs := e.s.CheckRuns(fullName)
	if len(runs) != 3 || runs[0].ExternalID != "key-1" || len(runs[0].Output.Annotations) != 100 || len(runs[0].Actions) != 1 || runs[0].Output.Summary != "All pinned" {
		t.Errorf("CheckRuns = %+v", runs)
	}
	anns := must[[]*github.CheckRunAnnotation](t)(c.Checks.ListCheckRunAnnotations(ctx, owner, repoName, cr.GetID(), &github.ListOptions{PerPage: 100}))
	if len(anns) != 100 {
		t.Errorf("annotations = %d", len(anns))
	}

	// GitHub's limits answer 422; the description encodes them, so they are
	// violations too.
	_, _, err := c.Checks.UpdateCheckRun(ctx, owner, repoName, cr.GetID(), github.UpdateCheckRunOptions{
		Name: "x", Actions: []*github.CheckRunAction{{Label: "ok", Description: strings.Repeat("d", 41), Identifier: "ok"}},
	})
	if statusOf(err) != http.StatusUnprocessableEntity {
		t.Errorf("long description: %v", err)
	}
	_, _, err = c.Checks.UpdateCheckRun(ctx, owner, repoName, cr.GetID(), github.UpdateCheckRunOptions{
		Name: "x", Output: &github.CheckRunOutput{Summary: github.Ptr("s"), Annotations: ann(51)},
	})
	if statusOf(err) != http.StatusUnprocessableEntity {
		t.Errorf("51 annotations: %v", err)
	}
	_, _, err = c.Checks.CreateCheckRun(ctx, owner, repoName, github.CreateCheckRunOptions{
		Name: "x", HeadSHA: sha, Output: &github.CheckRunOutput{Title: github.Ptr("t"), Summary: github.Ptr(strings.Repeat("s", 65536))},
	})
	if statusOf(err) != http.StatusUnprocessableEntity {
		t.Errorf("long summary: %v", err)
	}
	if v := e.s.TakeViolations(); len(v) != 3 {
		t.Errorf("violations = %v", v)
	}
	if _, _, err := c.Checks.CreateCheckRun(ctx, owner, repoName, github.CreateCheckRunOptions{Name: "x", HeadSHA: strings.Repeat("b", 40)}); statusOf(err) != http.StatusUnprocessableEntity {
		t.Errorf("unknown head_sha: %v", err)
	}
}

func readAll(t *testing.T, r interface{ Read([]byte) (int, error) }) string {
	t.Helper()
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			return sb.String()
		}
	}
}
