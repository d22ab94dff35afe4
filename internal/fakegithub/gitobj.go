package fakegithub

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Git objects, hashed exactly as git hashes them, so SHAs the fake hands out
// are the ones `git hash-object` / `git mktree` / `git commit-tree` compute.

const (
	zeroSHA      = "0000000000000000000000000000000000000000"
	emptyTreeSHA = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

	modeFile    = "100644"
	modeExec    = "100755"
	modeTree    = "40000" // as stored in tree objects; the API shows "040000"
	modeSymlink = "120000"
	modeCommit  = "160000" // submodule
)

type objKind int

const (
	kindBlob objKind = iota + 1
	kindTree
	kindCommit
)

func (k objKind) String() string {
	switch k {
	case kindBlob:
		return "blob"
	case kindTree:
		return "tree"
	case kindCommit:
		return "commit"
	}
	return "unknown"
}

// object is a stored git object. Exactly one of blob/tree/commit is set.
type object struct {
	kind   objKind
	blob   []byte
	tree   []treeEntry
	commit *commitObj
	size   int // length of the encoded object body
}

type treeEntry struct {
	mode string // git form: "100644", "100755", "40000", "120000", "160000"
	name string
	sha  string
}

func (e treeEntry) kind() objKind { return kindForMode(e.mode) }

func kindForMode(mode string) objKind {
	switch mode {
	case modeTree:
		return kindTree
	case modeCommit:
		return kindCommit
	}
	return kindBlob
}

// apiMode is the mode as GitHub's API spells it ("040000" for trees).
func apiMode(mode string) string {
	if mode == modeTree {
		return "040000"
	}
	return mode
}

// gitMode converts an API mode to the git form.
func gitMode(mode string) string {
	if mode == "040000" {
		return modeTree
	}
	return mode
}

type signature struct {
	Name  string
	Email string
	When  time.Time
}

func (s signature) encode() string {
	_, off := s.When.Zone()
	sign := '+'
	if off < 0 {
		sign = '-'
		off = -off
	}
	return fmt.Sprintf("%s <%s> %d %c%02d%02d", s.Name, s.Email, s.When.Unix(), sign, off/3600, (off%3600)/60)
}

type commitObj struct {
	tree      string
	parents   []string
	author    signature
	committer signature
	message   string
	seq       int64 // creation order; a commit is always created after its parents
	gen       int   // 1 + the largest generation of its parents
	verified  bool  // "signed" by GitHub (made through the API by the App)
}

func hashObject(kind objKind, body []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "%s %d\x00", kind, len(body))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// sortTree orders entries the way git does: by name, with trees compared as
// if their names ended in "/".
func sortTree(entries []treeEntry) {
	key := func(e treeEntry) string {
		if e.mode == modeTree {
			return e.name + "/"
		}
		return e.name
	}
	sort.Slice(entries, func(i, j int) bool { return key(entries[i]) < key(entries[j]) })
}

func encodeTree(entries []treeEntry) ([]byte, error) {
	var buf bytes.Buffer
	for _, e := range entries {
		raw, err := hex.DecodeString(e.sha)
		if err != nil || len(raw) != 20 {
			return nil, fmt.Errorf("bad sha %q for tree entry %q", e.sha, e.name)
		}
		buf.WriteString(e.mode)
		buf.WriteByte(' ')
		buf.WriteString(e.name)
		buf.WriteByte(0)
		buf.Write(raw)
	}
	return buf.Bytes(), nil
}

func encodeCommit(c *commitObj) []byte {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "tree %s\n", c.tree)
	for _, p := range c.parents {
		fmt.Fprintf(&buf, "parent %s\n", p)
	}
	fmt.Fprintf(&buf, "author %s\n", c.author.encode())
	fmt.Fprintf(&buf, "committer %s\n", c.committer.encode())
	buf.WriteByte('\n')
	buf.WriteString(c.message)
	return buf.Bytes()
}

// store is one repository's object database.
type store struct {
	objects map[string]*object
	seq     int64
}

func newStore() *store {
	st := &store{objects: map[string]*object{}}
	st.putTree(nil) //nolint:errcheck // the empty tree always encodes
	return st
}

func (st *store) get(sha string) *object {
	return st.objects[strings.ToLower(sha)]
}

func (st *store) putBlob(data []byte) string {
	sha := hashObject(kindBlob, data)
	if _, ok := st.objects[sha]; !ok {
		cp := append([]byte(nil), data...)
		st.objects[sha] = &object{kind: kindBlob, blob: cp, size: len(cp)}
	}
	return sha
}

func (st *store) putTree(entries []treeEntry) (string, error) {
	es := append([]treeEntry(nil), entries...)
	sortTree(es)
	body, err := encodeTree(es)
	if err != nil {
		return "", err
	}
	sha := hashObject(kindTree, body)
	if _, ok := st.objects[sha]; !ok {
		st.objects[sha] = &object{kind: kindTree, tree: es, size: len(body)}
	}
	return sha, nil
}

func (st *store) putCommit(c *commitObj) string {
	body := encodeCommit(c)
	sha := hashObject(kindCommit, body)
	if _, ok := st.objects[sha]; ok {
		return sha
	}
	st.seq++
	c.seq = st.seq
	c.gen = 1
	for _, p := range c.parents {
		if pc := st.commit(p); pc != nil && pc.gen+1 > c.gen {
			c.gen = pc.gen + 1
		}
	}
	st.objects[sha] = &object{kind: kindCommit, commit: c, size: len(body)}
	return sha
}

func (st *store) commit(sha string) *commitObj {
	o := st.get(sha)
	if o == nil || o.kind != kindCommit {
		return nil
	}
	return o.commit
}

func (st *store) tree(sha string) []treeEntry {
	o := st.get(sha)
	if o == nil || o.kind != kindTree {
		return nil
	}
	return o.tree
}

// leaf is a non-tree entry in a flattened tree.
type leaf struct {
	mode string
	sha  string
}

// flatten lists every non-tree entry under a tree by full path.
func (st *store) flatten(treeSHA string) map[string]leaf {
	out := map[string]leaf{}
	st.flattenInto(treeSHA, "", out)
	return out
}

func (st *store) flattenInto(treeSHA, prefix string, out map[string]leaf) {
	for _, e := range st.tree(treeSHA) {
		p := prefix + e.name
		if e.mode == modeTree {
			st.flattenInto(e.sha, p+"/", out)
			continue
		}
		out[p] = leaf{mode: e.mode, sha: e.sha}
	}
}

// lookup finds the entry at a slash-separated path below a tree. The empty
// path is the tree itself.
func (st *store) lookup(treeSHA, path string) (treeEntry, bool) {
	path = strings.Trim(path, "/")
	if path == "" {
		return treeEntry{mode: modeTree, sha: treeSHA}, true
	}
	cur := treeSHA
	parts := strings.Split(path, "/")
	for i, part := range parts {
		var found *treeEntry
		for _, e := range st.tree(cur) {
			if e.name == part {
				e := e
				found = &e
				break
			}
		}
		if found == nil {
			return treeEntry{}, false
		}
		if i == len(parts)-1 {
			return *found, true
		}
		if found.mode != modeTree {
			return treeEntry{}, false
		}
		cur = found.sha
	}
	return treeEntry{}, false
}

// treeBuilder edits a tree in memory; write stores the result.
type treeBuilder struct {
	st      *store
	entries map[string]*builderEntry
}

type builderEntry struct {
	mode string
	sha  string       // for leaves and unexpanded subtrees
	sub  *treeBuilder // an expanded subtree
}

func (st *store) newBuilder(base string) *treeBuilder {
	b := &treeBuilder{st: st, entries: map[string]*builderEntry{}}
	for _, e := range st.tree(base) {
		b.entries[e.name] = &builderEntry{mode: e.mode, sha: e.sha}
	}
	return b
}

func validPath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") {
		return fmt.Errorf("invalid path %q", p)
	}
	for _, part := range strings.Split(p, "/") {
		if part == "" || part == "." || part == ".." || part == ".git" {
			return fmt.Errorf("invalid path %q", p)
		}
	}
	return nil
}

// set puts a leaf (or a whole subtree, with mode 40000) at path, creating
// intermediate directories.
func (b *treeBuilder) set(path, mode, sha string) error {
	if err := validPath(path); err != nil {
		return err
	}
	parts := strings.Split(path, "/")
	cur := b
	for _, part := range parts[:len(parts)-1] {
		e := cur.entries[part]
		if e == nil || e.mode != modeTree {
			e = &builderEntry{mode: modeTree, sub: &treeBuilder{st: b.st, entries: map[string]*builderEntry{}}}
			cur.entries[part] = e
		}
		if e.sub == nil {
			e.sub = b.st.newBuilder(e.sha)
		}
		cur = e.sub
	}
	cur.entries[parts[len(parts)-1]] = &builderEntry{mode: mode, sha: sha}
	return nil
}

// remove deletes the entry at path; it reports whether there was one.
func (b *treeBuilder) remove(path string) bool {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	cur := b
	for _, part := range parts[:len(parts)-1] {
		e := cur.entries[part]
		if e == nil || e.mode != modeTree {
			return false
		}
		if e.sub == nil {
			e.sub = b.st.newBuilder(e.sha)
		}
		cur = e.sub
	}
	last := parts[len(parts)-1]
	if _, ok := cur.entries[last]; !ok {
		return false
	}
	delete(cur.entries, last)
	return true
}

// write stores the tree and its edited subtrees; empty subtrees are dropped
// (git cannot record an empty directory).
func (b *treeBuilder) write() (string, error) {
	var entries []treeEntry
	for name, e := range b.entries {
		sha := e.sha
		if e.sub != nil {
			s, err := e.sub.write()
			if err != nil {
				return "", err
			}
			sha = s
		}
		if e.mode == modeTree && sha == emptyTreeSHA {
			continue
		}
		entries = append(entries, treeEntry{mode: e.mode, name: name, sha: sha})
	}
	return b.st.putTree(entries)
}

// buildFlat stores a tree holding exactly the given leaves.
func (st *store) buildFlat(files map[string]leaf) (string, error) {
	b := &treeBuilder{st: st, entries: map[string]*builderEntry{}}
	for p, l := range files {
		if err := b.set(p, l.mode, l.sha); err != nil {
			return "", err
		}
	}
	return b.write()
}

// ancestors returns every commit reachable from sha, itself included.
func (st *store) ancestors(sha string) map[string]bool {
	seen := map[string]bool{}
	stack := []string{sha}
	for len(stack) > 0 {
		cur := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if cur == "" || seen[cur] {
			continue
		}
		c := st.commit(cur)
		if c == nil {
			continue
		}
		seen[cur] = true
		stack = append(stack, c.parents...)
	}
	return seen
}

func (st *store) isAncestor(anc, desc string) bool {
	return st.ancestors(desc)[anc]
}

// mergeBase returns the best common ancestor of a and b ("" if none): the
// common ancestor with the highest generation number.
func (st *store) mergeBase(a, b string) string {
	as := st.ancestors(a)
	best, bestGen := "", -1
	var bestSeq int64
	for sha := range st.ancestors(b) {
		if !as[sha] {
			continue
		}
		c := st.commit(sha)
		if c.gen > bestGen || (c.gen == bestGen && c.seq > bestSeq) {
			best, bestGen, bestSeq = sha, c.gen, c.seq
		}
	}
	return best
}

// between lists commits reachable from head but not from base, oldest first.
func (st *store) between(base, head string) []string {
	exclude := map[string]bool{}
	if base != "" {
		exclude = st.ancestors(base)
	}
	var out []string
	for sha := range st.ancestors(head) {
		if !exclude[sha] {
			out = append(out, sha)
		}
	}
	st.sortBySeq(out, false)
	return out
}

// sortBySeq orders commits by creation (a topological order).
func (st *store) sortBySeq(shas []string, newestFirst bool) {
	sort.Slice(shas, func(i, j int) bool {
		a, b := st.commit(shas[i]).seq, st.commit(shas[j]).seq
		if newestFirst {
			return a > b
		}
		return a < b
	})
}

// fileChange is one path's difference between two trees.
type fileChange struct {
	path     string
	prevPath string // for renames
	status   string // added, removed, modified, renamed
	old, new leaf
}

// diffTrees compares two trees (either may be "" for none), detecting exact
// renames (a removed and an added path with the same blob).
func (st *store) diffTrees(from, to string) []fileChange {
	a, b := map[string]leaf{}, map[string]leaf{}
	if from != "" {
		a = st.flatten(from)
	}
	if to != "" {
		b = st.flatten(to)
	}
	var added, removed []string
	var out []fileChange
	for p, l := range b {
		old, ok := a[p]
		switch {
		case !ok:
			added = append(added, p)
		case old != l:
			out = append(out, fileChange{path: p, status: "modified", old: old, new: l})
		}
	}
	for p := range a {
		if _, ok := b[p]; !ok {
			removed = append(removed, p)
		}
	}
	sort.Strings(added)
	sort.Strings(removed)
	used := map[string]bool{}
	for _, p := range added {
		l := b[p]
		renamed := false
		for _, q := range removed {
			if !used[q] && a[q].sha == l.sha {
				used[q] = true
				out = append(out, fileChange{path: p, prevPath: q, status: "renamed", old: a[q], new: l})
				renamed = true
				break
			}
		}
		if !renamed {
			out = append(out, fileChange{path: p, status: "added", new: l})
		}
	}
	for _, q := range removed {
		if !used[q] {
			out = append(out, fileChange{path: q, status: "removed", old: a[q]})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out
}

// lineStats approximates a diff's added and deleted line counts.
func (st *store) lineStats(ch fileChange) (add, del int) {
	lines := func(l leaf) []string {
		o := st.get(l.sha)
		if l.sha == "" || o == nil || o.kind != kindBlob || len(o.blob) == 0 {
			return nil
		}
		return strings.SplitAfter(string(o.blob), "\n")
	}
	oldL, newL := lines(ch.old), lines(ch.new)
	counts := map[string]int{}
	for _, l := range oldL {
		counts[l]++
	}
	for _, l := range newL {
		if counts[l] > 0 {
			counts[l]--
		} else {
			add++
		}
	}
	for _, n := range counts {
		del += n
	}
	return add, del
}

// merge3 merges two trees against their base at file granularity: a path
// changed on one side takes that side; changed identically on both is fine;
// changed differently on both is a conflict.
func (st *store) merge3(base, ours, theirs string) (string, []string, error) {
	b, o, t := map[string]leaf{}, st.flatten(ours), st.flatten(theirs)
	if base != "" {
		b = st.flatten(base)
	}
	paths := map[string]bool{}
	for _, m := range []map[string]leaf{b, o, t} {
		for p := range m {
			paths[p] = true
		}
	}
	result := map[string]leaf{}
	var conflicts []string
	for p := range paths {
		bl, inB := b[p]
		ol, inO := o[p]
		tl, inT := t[p]
		same := func(x leaf, inX bool, y leaf, inY bool) bool { return inX == inY && (!inX || x == y) }
		switch {
		case same(ol, inO, tl, inT):
			if inO {
				result[p] = ol
			}
		case same(bl, inB, ol, inO): // only theirs changed
			if inT {
				result[p] = tl
			}
		case same(bl, inB, tl, inT): // only ours changed
			if inO {
				result[p] = ol
			}
		default:
			conflicts = append(conflicts, p)
		}
	}
	sort.Strings(conflicts)
	if len(conflicts) > 0 {
		return "", conflicts, nil
	}
	sha, err := st.buildFlat(result)
	return sha, nil, err
}

// parseSignatureTime reads an ISO 8601 time as GitHub accepts it.
func parseSignatureTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("invalid time %q", s)
}
