package fakegithub

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

type repo struct {
	id            int64
	owner         *user
	name          string
	defaultBranch string
	private       bool
	inst          int64
	st            *store
	refs          map[string]string // full ref name → commit sha
	issues        map[int]*issue    // issues and pull requests by number
	nextNumber    int
	labels        map[string]*label // by lower-case name
	perms         map[string]string // lower-case login → role
	deleted       map[int]bool      // numbers of deleted issues (410 Gone)
	releases      []*release
	createdAt     time.Time
	pushedAt      time.Time
}

func (rp *repo) fullName() string { return rp.owner.login + "/" + rp.name }

// Repo is a handle on a fake repository.
type Repo struct {
	ID             int64
	Owner          string
	Name           string
	FullName       string
	DefaultBranch  string
	InstallationID int64

	s *Server
}

// Commit pushes a commit to a branch of the repository as a human; see
// Server.Commit.
func (r *Repo) Commit(branch string, files map[string]string, deletes []string, author, message string) string {
	return r.s.Commit(r.FullName, branch, files, deletes, author, message)
}

// File reads a file at a ref; see Server.File.
func (r *Repo) File(ref, path string) (string, bool) { return r.s.File(r.FullName, ref, path) }

// AddRepo creates a repository in an installation (0: in none, i.e. a repo
// the App cannot see) with one initial commit of an empty tree on
// defaultBranch (default "main"), authored by the owner.
func (s *Server) AddRepo(installationID int64, fullName, defaultBranch string) *Repo {
	return s.AddRepoWithFiles(installationID, fullName, defaultBranch, nil)
}

// AddRepoWithFiles is AddRepo with an initial commit holding files (path →
// content). It fires no push webhook; it does fire
// "installation_repositories" added for an existing installation.
func (s *Server) AddRepoWithFiles(installationID int64, fullName, defaultBranch string, files map[string]string) *Repo {
	s.mu.Lock()
	defer s.mu.Unlock()
	if defaultBranch == "" {
		defaultBranch = "main"
	}
	ownerName, name, ok := strings.Cut(fullName, "/")
	if !ok || ownerName == "" || name == "" {
		panic(fmt.Sprintf("fakegithub: AddRepo: full name %q is not owner/name", fullName))
	}
	if rp := s.repos[strings.ToLower(fullName)]; rp != nil {
		return s.repoHandle(rp)
	}
	owner := s.userLocked(ownerName, "")
	if inst := s.installations[installationID]; inst != nil && strings.EqualFold(inst.account.login, ownerName) {
		owner = inst.account
	}
	t := now()
	rp := &repo{
		id:            s.newID(),
		owner:         owner,
		name:          name,
		defaultBranch: defaultBranch,
		private:       true,
		inst:          installationID,
		st:            newStore(),
		refs:          map[string]string{},
		issues:        map[int]*issue{},
		nextNumber:    1,
		labels:        map[string]*label{},
		perms:         map[string]string{strings.ToLower(owner.login): "admin"},
		createdAt:     t,
		pushedAt:      t,
	}
	b := rp.st.newBuilder(emptyTreeSHA)
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if err := b.set(p, modeFile, rp.st.putBlob([]byte(files[p]))); err != nil {
			panic(fmt.Sprintf("fakegithub: AddRepo: %v", err))
		}
	}
	tree, err := b.write()
	if err != nil {
		panic(fmt.Sprintf("fakegithub: AddRepo: %v", err))
	}
	sig := signature{Name: owner.login, Email: owner.email(), When: t}
	sha := rp.st.putCommit(&commitObj{tree: tree, author: sig, committer: sig, message: "Initial commit"})
	rp.refs["refs/heads/"+defaultBranch] = sha
	s.repos[strings.ToLower(fullName)] = rp
	s.reposByID[rp.id] = rp
	if inst := s.installations[installationID]; inst != nil {
		s.hook("installation_repositories", "added", map[string]any{
			"installation":         s.installationJSON(inst),
			"repository_selection": "selected",
			"repositories_added": []any{map[string]any{
				"id": rp.id, "node_id": nodeID("R", rp.id), "name": rp.name, "full_name": rp.fullName(), "private": rp.private,
			}},
			"repositories_removed": []any{},
			"requester":            nil,
			"sender":               s.userJSON(owner),
		})
	}
	return s.repoHandle(rp)
}

func (s *Server) repoHandle(rp *repo) *Repo {
	return &Repo{
		ID: rp.id, Owner: rp.owner.login, Name: rp.name, FullName: rp.fullName(),
		DefaultBranch: rp.defaultBranch, InstallationID: rp.inst, s: s,
	}
}

// SetPrivate changes a repository's visibility (repositories start private).
func (s *Server) SetPrivate(fullName string, private bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustRepo(fullName).private = private
}

func (s *Server) mustRepo(fullName string) *repo {
	rp := s.repos[strings.ToLower(fullName)]
	if rp == nil {
		panic(fmt.Sprintf("fakegithub: no repository %q", fullName))
	}
	return rp
}

func (s *Server) sortedRepos() []*repo {
	out := make([]*repo, 0, len(s.repos))
	for _, rp := range s.repos {
		out = append(out, rp)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// resolveCommit turns a ref as GitHub accepts it — a full or abbreviated
// SHA, a branch, a tag, or a full "refs/..." name — into a commit SHA.
func (rp *repo) resolveCommit(ref string) (string, bool) {
	if ref == "" {
		ref = rp.defaultBranch
	}
	if isHex(ref) && len(ref) == 40 {
		if rp.st.commit(ref) != nil {
			return strings.ToLower(ref), true
		}
		return "", false
	}
	for _, full := range []string{"refs/heads/" + ref, "refs/tags/" + ref, ref, "refs/" + ref} {
		if sha, ok := rp.refs[full]; ok {
			return sha, true
		}
	}
	if isHex(ref) && len(ref) >= 7 {
		found := ""
		for sha, o := range rp.st.objects {
			if o.kind == kindCommit && strings.HasPrefix(sha, strings.ToLower(ref)) {
				if found != "" {
					return "", false
				}
				found = sha
			}
		}
		return found, found != ""
	}
	return "", false
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}

func (rp *repo) branchSHA(branch string) (string, bool) {
	sha, ok := rp.refs["refs/heads/"+branch]
	return sha, ok
}

func (rp *repo) sortedRefs() []string {
	out := make([]string, 0, len(rp.refs))
	for r := range rp.refs {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// setRef moves (or, with sha "", deletes) a ref and announces it: a push
// webhook, pull_request "synchronize" for open pull requests with that head,
// and "closed" for open pull requests whose head or base branch went away.
func (s *Server) setRef(rp *repo, ref, sha string, sender *user, forced bool) {
	before := rp.refs[ref]
	if before == sha {
		return
	}
	if sha == "" {
		delete(rp.refs, ref)
	} else {
		rp.refs[ref] = sha
	}
	rp.pushedAt = now()
	s.pushHook(rp, ref, before, sha, sender, forced)
	branch, isBranch := strings.CutPrefix(ref, "refs/heads/")
	if !isBranch {
		return
	}
	for _, is := range rp.sortedIssues() {
		if is.pr == nil || is.state != "open" {
			continue
		}
		pr := is.pr
		switch {
		case sha == "" && (pr.head == branch || pr.base == branch):
			s.closeIssue(rp, is, sender)
		case pr.head == branch:
			old := pr.headSHA
			pr.headSHA = sha
			is.updatedAt = now()
			s.hook("pull_request", "synchronize", s.prEvent(rp, is, sender, map[string]any{"before": old, "after": sha}))
		}
	}
}

// Commit pushes a new commit to a branch as a human (the author login):
// files are written (path → content), deletes removed. A missing branch is
// created from the default branch. It fires a push webhook and returns the
// commit SHA.
func (s *Server) Commit(fullName, branch string, files map[string]string, deletes []string, author, message string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.mustRepo(fullName)
	parent, ok := rp.branchSHA(branch)
	if !ok {
		parent, _ = rp.branchSHA(rp.defaultBranch)
	}
	base := emptyTreeSHA
	if pc := rp.st.commit(parent); pc != nil {
		base = pc.tree
	}
	b := rp.st.newBuilder(base)
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if err := b.set(p, modeFile, rp.st.putBlob([]byte(files[p]))); err != nil {
			panic(fmt.Sprintf("fakegithub: Commit: %v", err))
		}
	}
	for _, p := range deletes {
		b.remove(p)
	}
	tree, err := b.write()
	if err != nil {
		panic(fmt.Sprintf("fakegithub: Commit: %v", err))
	}
	u := s.userLocked(author, "")
	sig := signature{Name: u.login, Email: u.email(), When: now()}
	c := &commitObj{tree: tree, author: sig, committer: sig, message: message}
	if parent != "" {
		c.parents = []string{parent}
	}
	sha := rp.st.putCommit(c)
	s.setRef(rp, "refs/heads/"+branch, sha, u, false)
	return sha
}

// DeleteBranch deletes a branch as a human; open pull requests from or to it
// are closed, as on GitHub.
func (s *Server) DeleteBranch(fullName, branch, by string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.mustRepo(fullName)
	s.setRef(rp, "refs/heads/"+branch, "", s.userLocked(by, ""), false)
}

// File reads a file's content at a ref (branch, tag or SHA).
func (s *Server) File(fullName, ref, path string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.repos[strings.ToLower(fullName)]
	if rp == nil {
		return "", false
	}
	sha, ok := rp.resolveCommit(ref)
	if !ok {
		return "", false
	}
	e, ok := rp.st.lookup(rp.st.commit(sha).tree, path)
	if !ok || e.kind() != kindBlob {
		return "", false
	}
	return string(rp.st.get(e.sha).blob), true
}

// Files lists every file at a ref (path → content).
func (s *Server) Files(fullName, ref string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	rp := s.repos[strings.ToLower(fullName)]
	if rp == nil {
		return out
	}
	sha, ok := rp.resolveCommit(ref)
	if !ok {
		return out
	}
	for p, l := range rp.st.flatten(rp.st.commit(sha).tree) {
		if o := rp.st.get(l.sha); o != nil && o.kind == kindBlob {
			out[p] = string(o.blob)
		}
	}
	return out
}

// Branch returns a branch's head SHA.
func (s *Server) Branch(fullName, branch string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.repos[strings.ToLower(fullName)]
	if rp == nil {
		return "", false
	}
	return rp.branchSHA(branch)
}

// Branches lists a repository's branch names.
func (s *Server) Branches(fullName string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	if rp := s.repos[strings.ToLower(fullName)]; rp != nil {
		for _, r := range rp.sortedRefs() {
			if b, ok := strings.CutPrefix(r, "refs/heads/"); ok {
				out = append(out, b)
			}
		}
	}
	return out
}

// CommitInfo describes a commit.
type CommitInfo struct {
	SHA            string
	Tree           string
	Parents        []string
	Author         string // name
	AuthorEmail    string
	Committer      string // name
	CommitterEmail string
	Message        string
	Time           time.Time // author date
	Verified       bool      // GitHub would show it as verified
}

// CommitsOn lists the commits reachable from a branch, newest first.
func (s *Server) CommitsOn(fullName, branch string) []CommitInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.repos[strings.ToLower(fullName)]
	if rp == nil {
		return nil
	}
	head, ok := rp.resolveCommit(branch)
	if !ok {
		return nil
	}
	shas := rp.st.between("", head)
	rp.st.sortBySeq(shas, true)
	out := make([]CommitInfo, 0, len(shas))
	for _, sha := range shas {
		c := rp.st.commit(sha)
		out = append(out, CommitInfo{
			SHA: sha, Tree: c.tree, Parents: append([]string(nil), c.parents...),
			Author: c.author.Name, AuthorEmail: c.author.Email,
			Committer: c.committer.Name, CommitterEmail: c.committer.Email,
			Message: c.message, Time: c.author.When, Verified: c.verified,
		})
	}
	return out
}

// SetPermission sets a user's role on a repository: admin, maintain, write,
// triage, read or none.
func (s *Server) SetPermission(fullName, login, permission string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.mustRepo(fullName)
	s.userLocked(login, "")
	rp.perms[strings.ToLower(login)] = permission
}

// JSON shapes.

func (s *Server) repoJSON(rp *repo) map[string]any {
	fn := rp.fullName()
	visibility := "public"
	if rp.private {
		visibility = "private"
	}
	u := func(f string, a ...any) string { return s.apiURL("repos/"+fn+f, a...) }
	return map[string]any{
		"id":                     rp.id,
		"node_id":                nodeID("R", rp.id),
		"name":                   rp.name,
		"full_name":              fn,
		"owner":                  s.userJSON(rp.owner),
		"private":                rp.private,
		"visibility":             visibility,
		"html_url":               s.htmlURL("%s", fn),
		"description":            nil,
		"fork":                   false,
		"url":                    u(""),
		"archive_url":            u("/{archive_format}{/ref}"),
		"branches_url":           u("/branches{/branch}"),
		"collaborators_url":      u("/collaborators{/collaborator}"),
		"comments_url":           u("/comments{/number}"),
		"commits_url":            u("/commits{/sha}"),
		"compare_url":            u("/compare/{base}...{head}"),
		"contents_url":           u("/contents/{+path}"),
		"git_commits_url":        u("/git/commits{/sha}"),
		"git_refs_url":           u("/git/refs{/sha}"),
		"git_tags_url":           u("/git/tags{/sha}"),
		"issue_comment_url":      u("/issues/comments{/number}"),
		"issues_url":             u("/issues{/number}"),
		"labels_url":             u("/labels{/name}"),
		"pulls_url":              u("/pulls{/number}"),
		"releases_url":           u("/releases{/id}"),
		"trees_url":              u("/git/trees{/sha}"),
		"hooks_url":              u("/hooks"),
		"git_url":                "git://fake.github/" + fn + ".git",
		"ssh_url":                "git@fake.github:" + fn + ".git",
		"clone_url":              s.htmlURL("%s.git", fn),
		"homepage":               nil,
		"size":                   0,
		"language":               nil,
		"has_issues":             true,
		"has_projects":           false,
		"has_wiki":               false,
		"has_pages":              false,
		"has_downloads":          false,
		"has_discussions":        false,
		"archived":               false,
		"disabled":               false,
		"is_template":            false,
		"topics":                 []string{},
		"forks_count":            0,
		"stargazers_count":       0,
		"watchers_count":         0,
		"open_issues_count":      rp.openIssues(),
		"forks":                  0,
		"open_issues":            rp.openIssues(),
		"watchers":               0,
		"default_branch":         rp.defaultBranch,
		"allow_merge_commit":     true,
		"allow_squash_merge":     true,
		"allow_rebase_merge":     true,
		"allow_auto_merge":       false,
		"delete_branch_on_merge": false,
		"created_at":             ts(rp.createdAt),
		"updated_at":             ts(rp.pushedAt),
		"pushed_at":              ts(rp.pushedAt),
		"permissions": map[string]any{
			"admin": false, "maintain": false, "push": true, "triage": true, "pull": true,
		},
	}
}

func (rp *repo) openIssues() int {
	n := 0
	for _, is := range rp.issues {
		if is.state == "open" {
			n++
		}
	}
	return n
}

// userForSignature maps a commit signature to a GitHub user, as GitHub does
// by e-mail address.
func (s *Server) userForSignature(sig signature) *user {
	email := strings.ToLower(sig.Email)
	if email == "noreply@github.com" {
		return s.userLocked("web-flow", "User")
	}
	if local, ok := strings.CutSuffix(email, "@users.noreply.github.com"); ok {
		if _, login, ok := strings.Cut(local, "+"); ok {
			return s.users[login]
		}
		return s.users[local]
	}
	return nil
}

func (s *Server) gitCommitJSON(rp *repo, sha string) map[string]any {
	c := rp.st.commit(sha)
	fn := rp.fullName()
	parents := []any{}
	for _, p := range c.parents {
		parents = append(parents, map[string]any{
			"sha": p, "url": s.apiURL("repos/%s/git/commits/%s", fn, p), "html_url": s.htmlURL("%s/commit/%s", fn, p),
		})
	}
	return map[string]any{
		"sha":          sha,
		"node_id":      encodeNodeID("C", sha),
		"url":          s.apiURL("repos/%s/git/commits/%s", fn, sha),
		"html_url":     s.htmlURL("%s/commit/%s", fn, sha),
		"author":       sigJSON(c.author),
		"committer":    sigJSON(c.committer),
		"tree":         map[string]any{"sha": c.tree, "url": s.apiURL("repos/%s/git/trees/%s", fn, c.tree)},
		"message":      c.message,
		"parents":      parents,
		"verification": verificationJSON(c),
	}
}

func verificationJSON(c *commitObj) map[string]any {
	if c.verified {
		return map[string]any{"verified": true, "reason": "valid", "signature": nil, "payload": nil, "verified_at": ts(c.committer.When)}
	}
	return map[string]any{"verified": false, "reason": "unsigned", "signature": nil, "payload": nil, "verified_at": nil}
}

func sigJSON(sig signature) map[string]any {
	return map[string]any{"name": sig.Name, "email": sig.Email, "date": ts(sig.When)}
}

// commitJSON is the "commit" shape of /repos/{o}/{r}/commits.
func (s *Server) commitJSON(rp *repo, sha string) map[string]any {
	c := rp.st.commit(sha)
	fn := rp.fullName()
	parents := []any{}
	for _, p := range c.parents {
		parents = append(parents, map[string]any{
			"sha": p, "url": s.apiURL("repos/%s/commits/%s", fn, p), "html_url": s.htmlURL("%s/commit/%s", fn, p),
		})
	}
	inner := map[string]any{
		"author":        sigJSON(c.author),
		"committer":     sigJSON(c.committer),
		"message":       c.message,
		"tree":          map[string]any{"sha": c.tree, "url": s.apiURL("repos/%s/git/trees/%s", fn, c.tree)},
		"url":           s.apiURL("repos/%s/git/commits/%s", fn, sha),
		"comment_count": 0,
		"verification":  verificationJSON(c),
	}
	return map[string]any{
		"sha":          sha,
		"node_id":      encodeNodeID("C", sha),
		"commit":       inner,
		"url":          s.apiURL("repos/%s/commits/%s", fn, sha),
		"html_url":     s.htmlURL("%s/commit/%s", fn, sha),
		"comments_url": s.apiURL("repos/%s/commits/%s/comments", fn, sha),
		"author":       s.userJSON(s.userForSignature(c.author)),
		"committer":    s.userJSON(s.userForSignature(c.committer)),
		"parents":      parents,
	}
}

// fileJSON is one entry of "files" in commits, compares and pull requests.
func (s *Server) fileJSON(rp *repo, ref string, ch fileChange, withPatch bool) map[string]any {
	add, del, patch := s.diffFile(rp, ch)
	fn := rp.fullName()
	sha := ch.new.sha
	if ch.status == "removed" {
		sha = ch.old.sha
	}
	out := map[string]any{
		"sha":          sha,
		"filename":     ch.path,
		"status":       ch.status,
		"additions":    add,
		"deletions":    del,
		"changes":      add + del,
		"blob_url":     s.htmlURL("%s/blob/%s/%s", fn, ref, ch.path),
		"raw_url":      s.htmlURL("%s/raw/%s/%s", fn, ref, ch.path),
		"contents_url": s.apiURL("repos/%s/contents/%s?ref=%s", fn, ch.path, ref),
	}
	if withPatch && patch != "" {
		out["patch"] = patch
	}
	if ch.prevPath != "" {
		out["previous_filename"] = ch.prevPath
	}
	return out
}

// Handlers: repositories.

func (s *Server) getRepo(c *call) {
	if rp := c.repo(); rp != nil {
		c.json(http.StatusOK, s.repoJSON(rp))
	}
}

const maxContentSize = 1 << 20 // the contents API inlines files up to 1 MB

func (s *Server) getContent(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	ref := c.query("ref")
	sha, ok := rp.resolveCommit(ref)
	if !ok {
		if ref == "" {
			c.fail(http.StatusNotFound, "This repository is empty.")
			return
		}
		c.fail(http.StatusNotFound, "No commit found for the ref "+ref)
		return
	}
	if ref == "" {
		ref = rp.defaultBranch
	}
	path := strings.Trim(c.param("path"), "/")
	e, ok := rp.st.lookup(rp.st.commit(sha).tree, path)
	if !ok {
		c.notFound()
		return
	}
	if e.kind() == kindTree {
		var out []any
		for _, child := range rp.st.tree(e.sha) {
			p := child.name
			if path != "" {
				p = path + "/" + child.name
			}
			out = append(out, s.contentJSON(rp, ref, sha, p, child, false))
		}
		if out == nil {
			out = []any{}
		}
		c.json(http.StatusOK, out)
		return
	}
	e.name = path[strings.LastIndex(path, "/")+1:]
	accept := c.r.Header.Get("Accept")
	if e.kind() == kindBlob && (strings.Contains(accept, "vnd.github.raw") || strings.Contains(accept, "vnd.github.v3.raw")) {
		c.status = http.StatusOK
		c.out = append([]byte{}, rp.st.get(e.sha).blob...)
		c.header.Set("Content-Type", "application/vnd.github.raw; charset=utf-8")
		return
	}
	c.json(http.StatusOK, s.contentJSON(rp, ref, sha, path, e, true))
}

func (s *Server) contentJSON(rp *repo, ref, commitSHA, path string, e treeEntry, withContent bool) map[string]any {
	fn := rp.fullName()
	typ := "file"
	size := 0
	switch e.mode {
	case modeTree:
		typ = "dir"
	case modeSymlink:
		typ = "symlink"
	case modeCommit:
		typ = "submodule"
	}
	var blob []byte
	if o := rp.st.get(e.sha); o != nil && o.kind == kindBlob {
		blob = o.blob
		size = len(blob)
	}
	selfURL := s.apiURL("repos/%s/contents/%s?ref=%s", fn, path, queryEscape(ref))
	gitURL := s.apiURL("repos/%s/git/blobs/%s", fn, e.sha)
	if typ == "dir" {
		gitURL = s.apiURL("repos/%s/git/trees/%s", fn, e.sha)
	}
	htmlURL := s.htmlURL("%s/blob/%s/%s", fn, ref, path)
	var download any
	if typ == "file" || typ == "symlink" {
		download = s.base + "_fake/raw/" + fn + "/" + commitSHA + "/" + path
	}
	out := map[string]any{
		"type":         typ,
		"size":         size,
		"name":         e.name,
		"path":         path,
		"sha":          e.sha,
		"url":          selfURL,
		"git_url":      gitURL,
		"html_url":     htmlURL,
		"download_url": download,
		"_links":       map[string]any{"self": selfURL, "git": gitURL, "html": htmlURL},
	}
	if withContent && typ == "file" {
		if size > maxContentSize {
			out["encoding"] = "none"
			out["content"] = ""
		} else {
			out["encoding"] = "base64"
			out["content"] = wrappedBase64(blob)
		}
	}
	if withContent && typ == "symlink" {
		out["target"] = string(blob)
	}
	return out
}

// wrappedBase64 encodes like GitHub: base64 with a newline every 60
// characters.
func wrappedBase64(b []byte) string {
	enc := base64.StdEncoding.EncodeToString(b)
	var sb strings.Builder
	for len(enc) > 60 {
		sb.WriteString(enc[:60])
		sb.WriteByte('\n')
		enc = enc[60:]
	}
	sb.WriteString(enc)
	if sb.Len() > 0 {
		sb.WriteByte('\n')
	}
	return sb.String()
}

func (s *Server) branchJSON(rp *repo, name, sha string) map[string]any {
	fn := rp.fullName()
	return map[string]any{
		"name":      name,
		"commit":    s.commitJSON(rp, sha),
		"_links":    map[string]any{"self": s.apiURL("repos/%s/branches/%s", fn, name), "html": s.htmlURL("%s/tree/%s", fn, name)},
		"protected": false,
		"protection": map[string]any{
			"enabled":                false,
			"required_status_checks": map[string]any{"enforcement_level": "off", "contexts": []string{}, "checks": []any{}},
		},
		"protection_url": s.apiURL("repos/%s/branches/%s/protection", fn, name),
	}
}

func (s *Server) getBranch(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	name := c.param("branch")
	sha, ok := rp.branchSHA(name)
	if !ok {
		c.fail(http.StatusNotFound, "Branch not found")
		return
	}
	c.json(http.StatusOK, s.branchJSON(rp, name, sha))
}

func (s *Server) listBranches(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	var names []string
	for _, r := range rp.sortedRefs() {
		if b, ok := strings.CutPrefix(r, "refs/heads/"); ok {
			names = append(names, b)
		}
	}
	out := []any{}
	for _, b := range paginate(c, names) {
		sha := rp.refs["refs/heads/"+b]
		out = append(out, map[string]any{
			"name":      b,
			"commit":    map[string]any{"sha": sha, "url": s.apiURL("repos/%s/commits/%s", rp.fullName(), sha)},
			"protected": false,
		})
	}
	c.json(http.StatusOK, out)
}

func (s *Server) listCommits(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	head, ok := rp.resolveCommit(c.query("sha"))
	if !ok {
		if c.query("sha") == "" {
			c.fail(http.StatusConflict, "Git Repository is empty.")
			return
		}
		c.fail(http.StatusNotFound, "No commit found for SHA: "+c.query("sha"))
		return
	}
	shas := rp.st.between("", head)
	rp.st.sortBySeq(shas, true)
	path := strings.Trim(c.query("path"), "/")
	author := c.query("author")
	var since, until time.Time
	if v := c.query("since"); v != "" {
		since, _ = parseSignatureTime(v)
	}
	if v := c.query("until"); v != "" {
		until, _ = parseSignatureTime(v)
	}
	var keep []string
	for _, sha := range shas {
		cm := rp.st.commit(sha)
		if path != "" && !s.touches(rp, cm, path) {
			continue
		}
		if author != "" {
			u := s.userForSignature(cm.author)
			if (u == nil || !strings.EqualFold(u.login, author)) && !strings.EqualFold(cm.author.Email, author) {
				continue
			}
		}
		if !since.IsZero() && cm.committer.When.Before(since) {
			continue
		}
		if !until.IsZero() && cm.committer.When.After(until) {
			continue
		}
		keep = append(keep, sha)
	}
	out := []any{}
	for _, sha := range paginate(c, keep) {
		out = append(out, s.commitJSON(rp, sha))
	}
	c.json(http.StatusOK, out)
}

// touches reports whether a commit changed path (a file or a directory),
// with git log's history simplification for merges.
func (s *Server) touches(rp *repo, cm *commitObj, path string) bool {
	at := func(tree string) string {
		e, ok := rp.st.lookup(tree, path)
		if !ok {
			return ""
		}
		return e.sha
	}
	mine := at(cm.tree)
	if len(cm.parents) == 0 {
		return mine != ""
	}
	for _, p := range cm.parents {
		if pc := rp.st.commit(p); pc != nil && at(pc.tree) == mine {
			return false
		}
	}
	return true
}

func (s *Server) getCommit(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	sha, ok := rp.resolveCommit(c.param("ref"))
	if !ok {
		c.unprocessable("No commit found for SHA: " + c.param("ref"))
		return
	}
	cm := rp.st.commit(sha)
	parentTree := ""
	if len(cm.parents) > 0 {
		parentTree = rp.st.commit(cm.parents[0]).tree
	}
	changes := rp.st.diffTrees(parentTree, cm.tree)
	out := s.commitJSON(rp, sha)
	files := []any{}
	adds, dels := 0, 0
	for i, ch := range changes {
		if i >= 300 {
			break
		}
		f := s.fileJSON(rp, sha, ch, true)
		adds += f["additions"].(int)
		dels += f["deletions"].(int)
		files = append(files, f)
	}
	out["files"] = files
	out["stats"] = map[string]any{"additions": adds, "deletions": dels, "total": adds + dels}
	c.json(http.StatusOK, out)
}

// compare answers both /compare/{basehead} and the deprecated
// /compare/{base}...{head}.
func (s *Server) compare(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	baseRef, headRef := c.param("base"), c.param("head")
	if bh := c.param("basehead"); bh != "" {
		var ok bool
		baseRef, headRef, ok = strings.Cut(bh, "...")
		if !ok {
			baseRef, headRef, ok = strings.Cut(bh, "..")
		}
		if !ok {
			c.notFound()
			return
		}
	}
	strip := func(ref string) (string, bool) {
		owner, r, ok := strings.Cut(ref, ":")
		if !ok {
			return ref, true
		}
		return r, strings.EqualFold(owner, rp.owner.login)
	}
	baseRef, ok1 := strip(baseRef)
	headRef, ok2 := strip(headRef)
	base, ok3 := rp.resolveCommit(baseRef)
	head, ok4 := rp.resolveCommit(headRef)
	if !ok1 || !ok2 || !ok3 || !ok4 || baseRef == "" || headRef == "" {
		c.notFound()
		return
	}
	mb := rp.st.mergeBase(base, head)
	ahead := rp.st.between(base, head)
	behind := rp.st.between(head, base)
	status := "diverged"
	switch {
	case len(ahead) == 0 && len(behind) == 0:
		status = "identical"
	case len(behind) == 0:
		status = "ahead"
	case len(ahead) == 0:
		status = "behind"
	}
	commits := ahead
	if c.query("page") != "" || c.query("per_page") != "" {
		commits = paginate(c, ahead)
	} else if len(commits) > 250 {
		commits = commits[:250]
	}
	cs := []any{}
	for _, sha := range commits {
		cs = append(cs, s.commitJSON(rp, sha))
	}
	mbTree := ""
	if mb != "" {
		mbTree = rp.st.commit(mb).tree
	}
	files := []any{}
	for i, ch := range rp.st.diffTrees(mbTree, rp.st.commit(head).tree) {
		if i >= 300 { // GitHub lists at most 300 files
			break
		}
		files = append(files, s.fileJSON(rp, head, ch, true))
	}
	fn := rp.fullName()
	spec := baseRef + "..." + headRef
	var mbJSON any
	if mb != "" {
		mbJSON = s.commitJSON(rp, mb)
	}
	c.json(http.StatusOK, map[string]any{
		"url":               s.apiURL("repos/%s/compare/%s", fn, spec),
		"html_url":          s.htmlURL("%s/compare/%s", fn, spec),
		"permalink_url":     s.htmlURL("%s/compare/%s...%s", fn, base, head),
		"diff_url":          s.htmlURL("%s/compare/%s.diff", fn, spec),
		"patch_url":         s.htmlURL("%s/compare/%s.patch", fn, spec),
		"base_commit":       s.commitJSON(rp, base),
		"merge_base_commit": mbJSON,
		"status":            status,
		"ahead_by":          len(ahead),
		"behind_by":         len(behind),
		"total_commits":     len(ahead),
		"commits":           cs,
		"files":             files,
	})
}

func (s *Server) getCollaboratorPermission(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	login := c.param("username")
	u := s.users[strings.ToLower(login)]
	if u == nil {
		c.fail(http.StatusNotFound, login+" is not a user")
		return
	}
	role := rp.perms[strings.ToLower(login)]
	if role == "" {
		role = "none"
		if !rp.private {
			role = "read"
		}
	}
	perm := map[string]string{"admin": "admin", "maintain": "write", "write": "write", "triage": "read", "read": "read"}[role]
	if perm == "" {
		perm = "none"
	}
	uj := s.userJSON(u)
	uj["permissions"] = map[string]any{
		"admin": role == "admin", "maintain": role == "admin" || role == "maintain",
		"push":   perm == "admin" || perm == "write",
		"triage": perm != "none", "pull": perm != "none",
	}
	uj["role_name"] = role
	c.json(http.StatusOK, map[string]any{"permission": perm, "role_name": role, "user": uj})
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
