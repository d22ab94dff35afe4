package worktree

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-github/v89/github"
	"github.com/palantir/go-githubapp/githubapp"

	"github.com/tend-app/tend/internal/fakegithub"
)

func fakeClient(t *testing.T, gh *fakegithub.Server) *github.Client {
	t.Helper()
	cfg := gh.AppConfig()
	cc, err := githubapp.NewDefaultCachingClientCreator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	client, err := cc.NewInstallationClient(1)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// repoFiles is a repository with nesting at several depths.
func repoFiles() map[string]string {
	files := map[string]string{"README.md": "# web\n", "go.mod": "module web\n"}
	for _, d := range []string{"a", "a/b", "a/b/c", "d", "d/e", "f/g/h/i"} {
		for i := range 3 {
			p := fmt.Sprintf("%s/file%d.txt", d, i)
			files[p] = "content of " + p + "\n"
		}
	}
	files["dup1.txt"] = "same\n"
	files["a/dup2.txt"] = "same\n"
	return files
}

func treeOf(t *testing.T, gh *fakegithub.Server, client *github.Client) string {
	t.Helper()
	head, ok := gh.Branch("acme/web", "main")
	if !ok {
		t.Fatal("no main branch")
	}
	c, _, err := client.Git.GetCommit(context.Background(), "acme", "web", head)
	if err != nil {
		t.Fatal(err)
	}
	return c.GetTree().GetSHA()
}

func count(gh *fakegithub.Server, op string) int {
	n := 0
	for _, r := range gh.Requests() {
		if r.Operation == op {
			n++
		}
	}
	return n
}

func entryPaths(t *testing.T, src Source) []string {
	t.Helper()
	entries, err := src.Entries(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Path+" "+e.Mode)
	}
	sort.Strings(out)
	return out
}

// A truncated recursive listing is completed by walking subtrees, and
// yields exactly what the untruncated listing does.
func TestGitHubSourceTruncation(t *testing.T) {
	files := repoFiles()
	var want []string
	for p := range files {
		want = append(want, p+" "+ModeFile)
	}
	sort.Strings(want)

	// The root has 6 entries, every other directory fewer.
	for _, at := range []int{100000, 6, 7, 10, 20} {
		t.Run(fmt.Sprintf("truncate at %d", at), func(t *testing.T) {
			gh := fakegithub.New(t, fakegithub.WithTreeTruncateAt(at))
			gh.AddInstallation(1, "acme")
			gh.AddRepoWithFiles(1, "acme/web", "main", files)
			client := fakeClient(t, gh)
			treeSHA := treeOf(t, gh, client)
			gh.ResetRequests()
			got := entryPaths(t, GitHubSource(client, "acme", "web", treeSHA))
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			n := count(gh, "git/get-tree")
			if at == 100000 && n != 1 {
				t.Errorf("%d tree requests for an untruncated listing", n)
			}
			t.Logf("truncate at %d: %d tree requests", at, n)
		})
	}
	// A single directory over the limit cannot be listed: an error, not
	// a partial tree.
	gh := fakegithub.New(t, fakegithub.WithTreeTruncateAt(5))
	gh.AddInstallation(1, "acme")
	gh.AddRepoWithFiles(1, "acme/web", "main", files)
	client := fakeClient(t, gh)
	if _, err := GitHubSource(client, "acme", "web", treeOf(t, gh, client)).Entries(context.Background()); err == nil || !strings.Contains(err.Error(), "too many entries") {
		t.Errorf("truncated directory: %v", err)
	}
}

// The tree is listed once; each blob is fetched once, on first read, even
// when read again or when two paths share it.
func TestGitHubSourceLazy(t *testing.T) {
	ctx := context.Background()
	gh := fakegithub.New(t)
	gh.AddInstallation(1, "acme")
	gh.AddRepoWithFiles(1, "acme/web", "main", repoFiles())
	client := fakeClient(t, gh)
	treeSHA := treeOf(t, gh, client)
	gh.ResetRequests()

	tree, err := New(ctx, GitHubSource(client, "acme", "web", treeSHA), Policy{Edits: []string{"**"}})
	if err != nil {
		t.Fatal(err)
	}
	if n := count(gh, "git/get-tree"); n != 1 {
		t.Errorf("%d tree requests", n)
	}
	if n := count(gh, "git/get-blob"); n != 0 {
		t.Errorf("listing read %d blobs", n)
	}
	for range 2 {
		if got := output(t, call(t, tree, ToolReadFile, map[string]any{"path": "a/b/file1.txt"})); got != "content of a/b/file1.txt\n" {
			t.Errorf("read: %q", got)
		}
	}
	output(t, call(t, tree, ToolReadFile, map[string]any{"path": "dup1.txt"}))
	output(t, call(t, tree, ToolReadFile, map[string]any{"path": "a/dup2.txt"}))
	if n := count(gh, "git/get-blob"); n != 2 {
		t.Errorf("%d blob requests for 2 distinct blobs", n)
	}
	// Searching reads what it must, once; a second search reads nothing.
	output(t, call(t, tree, ToolSearch, map[string]any{"pattern": "content", "glob": "d/**"}))
	output(t, call(t, tree, ToolSearch, map[string]any{"pattern": "of", "glob": "d/**"}))
	if n := count(gh, "git/get-blob"); n != 2+6 {
		t.Errorf("%d blob requests after searching 6 files twice", n)
	}
	// Writes stay in memory.
	output(t, call(t, tree, ToolWriteFile, map[string]any{"path": "a/new.txt", "content": "new\n"}))
	output(t, call(t, tree, ToolEditFile, map[string]any{"path": "README.md", "old_text": "web", "new_text": "Web"}))
	output(t, call(t, tree, ToolDeleteFile, map[string]any{"path": "go.mod"}))
	ch, err := tree.Changes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch) != 3 || ch[0].Path != "README.md" || ch[1].Path != "a/new.txt" || ch[2].Path != "go.mod" || string(ch[2].Base) != "module web\n" {
		t.Errorf("changes: %+v", ch)
	}
	for _, r := range gh.Requests() {
		if r.Method != "GET" && !strings.HasSuffix(r.Path, "/access_tokens") {
			t.Errorf("the tree wrote to GitHub: %s %s", r.Method, r.Path)
		}
	}
	if st := tree.Stats(); st.Fetches != 10 || st.FilesChanged != 3 {
		t.Errorf("stats: %+v", st)
	}
}

// Links and submodules keep their modes through the API and are neither
// followed nor written.
func TestGitHubSourceModes(t *testing.T) {
	ctx := context.Background()
	gh := fakegithub.New(t)
	gh.AddInstallation(1, "acme")
	gh.AddRepoWithFiles(1, "acme/web", "main", map[string]string{"real/x.txt": "x\n"})
	client := fakeClient(t, gh)
	base := treeOf(t, gh, client)
	tr, _, err := client.Git.CreateTree(ctx, "acme", "web", base, []*github.TreeEntry{
		{Path: github.Ptr("link"), Mode: github.Ptr(ModeSymlink), Type: github.Ptr("blob"), Content: github.Ptr("real")},
		{Path: github.Ptr("run.sh"), Mode: github.Ptr(ModeExecutable), Type: github.Ptr("blob"), Content: github.Ptr("#!/bin/sh\n")},
		{Path: github.Ptr("mod"), Mode: github.Ptr(ModeSubmodule), Type: github.Ptr("commit"), SHA: github.Ptr(strings.Repeat("ab", 20))},
	})
	if err != nil {
		t.Fatal(err)
	}
	src := GitHubSource(client, "acme", "web", tr.GetSHA())
	if got := strings.Join(entryPaths(t, src), ", "); got != "link 120000, mod 160000, real/x.txt 100644, run.sh 100755" {
		t.Errorf("entries: %s", got)
	}
	tree, err := New(ctx, src, Policy{Edits: []string{"**"}})
	if err != nil {
		t.Fatal(err)
	}
	toolError(t, call(t, tree, ToolReadFile, map[string]any{"path": "link"}), `symbolic link to "real"`)
	toolError(t, call(t, tree, ToolWriteFile, map[string]any{"path": "link/x.txt", "content": "y"}), "symbolic link")
	toolError(t, call(t, tree, ToolReadFile, map[string]any{"path": "mod"}), "submodule")
	output(t, call(t, tree, ToolEditFile, map[string]any{"path": "run.sh", "old_text": "\n", "new_text": "\nexit 0\n"}))
	if m := tree.Modes(); m["run.sh"] != ModeExecutable {
		t.Errorf("modes: %v", m)
	}
}
