package fakegithub

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Handlers: the Git Data API.

func (s *Server) getBlob(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	sha := strings.ToLower(c.param("file_sha"))
	o := rp.st.get(sha)
	if o == nil || o.kind != kindBlob {
		c.notFound()
		return
	}
	c.json(http.StatusOK, map[string]any{
		"sha":      sha,
		"node_id":  encodeNodeID("B", sha),
		"size":     len(o.blob),
		"url":      s.apiURL("repos/%s/git/blobs/%s", rp.fullName(), sha),
		"content":  wrappedBase64(o.blob),
		"encoding": "base64",
	})
}

func (s *Server) createBlob(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	var req struct {
		Content  *string `json:"content"`
		Encoding string  `json:"encoding"`
	}
	if !c.decode(&req) {
		return
	}
	if req.Content == nil {
		c.invalid(fieldError{Resource: "Blob", Field: "content", Code: "missing_field"})
		return
	}
	data := []byte(*req.Content)
	switch strings.ToLower(req.Encoding) {
	case "", "utf-8", "utf8":
	case "base64":
		d, err := base64.StdEncoding.DecodeString(strings.NewReplacer("\n", "", "\r", "").Replace(*req.Content))
		if err != nil {
			c.invalid(fieldError{Resource: "Blob", Field: "content", Code: "invalid", Message: "content is not valid Base64"})
			return
		}
		data = d
	default:
		c.invalid(fieldError{Resource: "Blob", Field: "encoding", Code: "invalid", Message: "encoding must be utf-8 or base64"})
		return
	}
	sha := rp.st.putBlob(data)
	c.json(http.StatusCreated, map[string]any{"sha": sha, "url": s.apiURL("repos/%s/git/blobs/%s", rp.fullName(), sha)})
}

// treeTarget resolves GET /git/trees/{tree_sha}: a tree SHA, a commit SHA or
// a branch or tag name.
func (rp *repo) treeTarget(ref string) (string, bool) {
	if o := rp.st.get(ref); o != nil {
		switch o.kind {
		case kindTree:
			return strings.ToLower(ref), true
		case kindCommit:
			return o.commit.tree, true
		}
		return "", false
	}
	if sha, ok := rp.resolveCommit(ref); ok {
		return rp.st.commit(sha).tree, true
	}
	return "", false
}

func (s *Server) treeEntryJSON(rp *repo, path string, e treeEntry) map[string]any {
	out := map[string]any{
		"path": path,
		"mode": apiMode(e.mode),
		"type": e.kind().String(),
		"sha":  e.sha,
	}
	switch e.kind() {
	case kindBlob:
		if o := rp.st.get(e.sha); o != nil {
			out["size"] = len(o.blob)
		}
		out["url"] = s.apiURL("repos/%s/git/blobs/%s", rp.fullName(), e.sha)
	case kindTree:
		out["url"] = s.apiURL("repos/%s/git/trees/%s", rp.fullName(), e.sha)
	}
	return out
}

func (s *Server) getTree(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	sha, ok := rp.treeTarget(c.param("tree_sha"))
	if !ok {
		c.notFound()
		return
	}
	// GitHub: "Setting this parameter to any value returns the objects or
	// subtrees referenced by the tree."
	_, recursive := c.r.URL.Query()["recursive"]
	entries := []any{}
	truncated := false
	var walk func(tree, prefix string) bool
	walk = func(tree, prefix string) bool {
		for _, e := range rp.st.tree(tree) {
			if len(entries) >= s.cfg.treeTruncateAt {
				truncated = true
				return false
			}
			entries = append(entries, s.treeEntryJSON(rp, prefix+e.name, e))
			if recursive && e.mode == modeTree {
				if !walk(e.sha, prefix+e.name+"/") {
					return false
				}
			}
		}
		return true
	}
	walk(sha, "")
	c.json(http.StatusOK, map[string]any{
		"sha":       sha,
		"url":       s.apiURL("repos/%s/git/trees/%s", rp.fullName(), sha),
		"tree":      entries,
		"truncated": truncated,
	})
}

func (s *Server) createTree(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	var req struct {
		BaseTree string                       `json:"base_tree"`
		Tree     []map[string]json.RawMessage `json:"tree"`
	}
	if !c.decode(&req) {
		return
	}
	base := emptyTreeSHA
	if req.BaseTree != "" {
		if rp.st.tree(req.BaseTree) == nil && strings.ToLower(req.BaseTree) != emptyTreeSHA {
			c.invalid(fieldError{Resource: "Tree", Field: "base_tree", Code: "invalid", Message: "base_tree is not a valid tree"})
			return
		}
		base = strings.ToLower(req.BaseTree)
	}
	b := rp.st.newBuilder(base)
	for i, raw := range req.Tree {
		str := func(k string) (string, bool, bool) { // value, present, null
			v, ok := raw[k]
			if !ok {
				return "", false, false
			}
			if string(v) == "null" {
				return "", true, true
			}
			var out string
			if json.Unmarshal(v, &out) != nil {
				return "", true, false
			}
			return out, true, false
		}
		path, _, _ := str("path")
		mode, _, _ := str("mode")
		typ, _, _ := str("type")
		sha, hasSHA, shaNull := str("sha")
		content, hasContent, contentNull := str("content")
		if contentNull {
			hasContent = false
		}
		bad := func(msg string) {
			c.invalid(fieldError{Resource: "Tree", Field: "tree[" + itoa(i) + "]", Code: "invalid", Message: msg})
		}
		if err := validPath(path); err != nil {
			bad("tree.path " + err.Error())
			return
		}
		if hasContent && hasSHA && !shaNull {
			bad("Must supply either tree.sha or tree.content, not both")
			return
		}
		if hasSHA && shaNull {
			b.remove(path)
			continue
		}
		if mode == "" {
			mode = map[string]string{"tree": "040000", "commit": modeCommit}[typ]
			if mode == "" {
				mode = modeFile
			}
		}
		if typ == "" {
			typ = kindForMode(gitMode(mode)).String()
		}
		if kindForMode(gitMode(mode)).String() != typ {
			bad("tree.mode " + mode + " does not match tree.type " + typ)
			return
		}
		switch {
		case hasContent:
			if typ != "blob" {
				bad("tree.content is only valid for blobs")
				return
			}
			sha = rp.st.putBlob([]byte(content))
		case hasSHA:
			sha = strings.ToLower(sha)
			if typ != "commit" {
				o := rp.st.get(sha)
				if o == nil || o.kind.String() != typ {
					c.unprocessable("GitRPC::BadObjectState")
					return
				}
			} else if len(sha) != 40 || !isHex(sha) {
				bad("tree.sha is not a valid SHA")
				return
			}
		default:
			bad("Must supply either tree.sha or tree.content")
			return
		}
		if err := b.set(path, gitMode(mode), sha); err != nil {
			bad(err.Error())
			return
		}
	}
	sha, err := b.write()
	if err != nil {
		c.unprocessable("GitRPC::BadObjectState")
		return
	}
	entries := []any{}
	for _, e := range rp.st.tree(sha) {
		entries = append(entries, s.treeEntryJSON(rp, e.name, e))
	}
	c.json(http.StatusCreated, map[string]any{
		"sha":       sha,
		"url":       s.apiURL("repos/%s/git/trees/%s", rp.fullName(), sha),
		"tree":      entries,
		"truncated": false,
	})
}

func (s *Server) getGitCommit(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	sha := strings.ToLower(c.param("commit_sha"))
	if rp.st.commit(sha) == nil {
		c.notFound()
		return
	}
	c.json(http.StatusOK, s.gitCommitJSON(rp, sha))
}

type sigRequest struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Date  string `json:"date"`
}

func (s *Server) createGitCommit(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	var req struct {
		Message   string      `json:"message"`
		Tree      string      `json:"tree"`
		Parents   []string    `json:"parents"`
		Author    *sigRequest `json:"author"`
		Committer *sigRequest `json:"committer"`
		Signature string      `json:"signature"`
	}
	if !c.decode(&req) {
		return
	}
	tree := strings.ToLower(req.Tree)
	if rp.st.tree(tree) == nil && tree != emptyTreeSHA {
		c.unprocessable("Tree SHA does not exist")
		return
	}
	for i, p := range req.Parents {
		if rp.st.commit(p) == nil {
			c.unprocessable("Parent SHA does not exist or is not a commit object")
			return
		}
		req.Parents[i] = strings.ToLower(p)
	}
	actor := c.who()
	def := signature{Name: actor.login, Email: actor.email(), When: now()}
	toSig := func(r *sigRequest, fallback signature) (signature, bool) {
		if r == nil {
			return fallback, true
		}
		sig := signature{Name: r.Name, Email: r.Email, When: now()}
		if r.Date != "" {
			t, err := parseSignatureTime(r.Date)
			if err != nil {
				c.invalid(fieldError{Resource: "Commit", Field: "date", Code: "invalid", Message: "invalid date " + r.Date})
				return signature{}, false
			}
			sig.When = t
		}
		if sig.Name == "" || sig.Email == "" {
			c.invalid(fieldError{Resource: "Commit", Field: "author", Code: "missing_field", Message: "name and email are required"})
			return signature{}, false
		}
		return sig, true
	}
	author, ok := toSig(req.Author, def)
	if !ok {
		return
	}
	committer, ok := toSig(req.Committer, author)
	if !ok {
		return
	}
	if !utf8.ValidString(req.Message) {
		c.invalid(fieldError{Resource: "Commit", Field: "message", Code: "invalid"})
		return
	}
	cm := &commitObj{
		tree:      tree,
		parents:   req.Parents,
		author:    author,
		committer: committer,
		message:   req.Message,
		// GitHub signs commits an App makes through the API when it does
		// not claim another committer.
		verified: req.Signature == "" && c.inst != nil && strings.EqualFold(committer.Email, s.bot.email()),
	}
	sha := rp.st.putCommit(cm)
	c.json(http.StatusCreated, s.gitCommitJSON(rp, sha))
}

func (s *Server) refJSON(rp *repo, ref string) map[string]any {
	sha := rp.refs[ref]
	return map[string]any{
		"ref":     ref,
		"node_id": encodeNodeID("REF", rp.fullName()+":"+ref),
		"url":     s.apiURL("repos/%s/git/%s", rp.fullName(), ref),
		"object": map[string]any{
			"type": "commit",
			"sha":  sha,
			"url":  s.apiURL("repos/%s/git/commits/%s", rp.fullName(), sha),
		},
	}
}

func (s *Server) getRef(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	ref := "refs/" + strings.TrimPrefix(c.param("ref"), "refs/")
	if _, ok := rp.refs[ref]; !ok {
		c.notFound()
		return
	}
	c.json(http.StatusOK, s.refJSON(rp, ref))
}

func (s *Server) listMatchingRefs(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	prefix := "refs/" + strings.TrimPrefix(c.param("ref"), "refs/")
	out := []any{}
	for _, r := range rp.sortedRefs() {
		if strings.HasPrefix(r, prefix) {
			out = append(out, s.refJSON(rp, r))
		}
	}
	c.json(http.StatusOK, out)
}

func validRefName(ref string) bool {
	if !strings.HasPrefix(ref, "refs/") || strings.Count(ref, "/") < 2 || strings.HasSuffix(ref, "/") ||
		strings.HasSuffix(ref, ".lock") || strings.Contains(ref, "..") || strings.Contains(ref, "//") ||
		strings.ContainsAny(ref, " ~^:?*[\\") || strings.Contains(ref, "@{") {
		return false
	}
	for _, r := range ref {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

func (s *Server) createRef(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	var req struct {
		Ref string `json:"ref"`
		SHA string `json:"sha"`
	}
	if !c.decode(&req) {
		return
	}
	if !validRefName(req.Ref) {
		c.unprocessable("Reference name is not valid")
		return
	}
	if _, ok := rp.refs[req.Ref]; ok {
		c.unprocessable("Reference already exists")
		return
	}
	sha := strings.ToLower(req.SHA)
	if rp.st.commit(sha) == nil {
		c.unprocessable("Object does not exist")
		return
	}
	s.setRef(rp, req.Ref, sha, c.who(), false)
	c.json(http.StatusCreated, s.refJSON(rp, req.Ref))
}

func (s *Server) updateRef(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	ref := "refs/" + strings.TrimPrefix(c.param("ref"), "refs/")
	var req struct {
		SHA   string `json:"sha"`
		Force bool   `json:"force"`
	}
	if !c.decode(&req) {
		return
	}
	old, ok := rp.refs[ref]
	if !ok {
		c.unprocessable("Reference does not exist")
		return
	}
	sha := strings.ToLower(req.SHA)
	if rp.st.commit(sha) == nil {
		c.unprocessable("Object does not exist")
		return
	}
	forced := false
	if !rp.st.isAncestor(old, sha) {
		if !req.Force {
			c.unprocessable("Update is not a fast forward")
			return
		}
		forced = true
	}
	s.setRef(rp, ref, sha, c.who(), forced)
	c.json(http.StatusOK, s.refJSON(rp, ref))
}

func (s *Server) deleteRef(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	ref := "refs/" + strings.TrimPrefix(c.param("ref"), "refs/")
	if _, ok := rp.refs[ref]; !ok {
		c.unprocessable("Reference does not exist")
		return
	}
	s.setRef(rp, ref, "", c.who(), false)
	c.status = http.StatusNoContent
}

func itoa(n int) string { return strconv.Itoa(n) }
