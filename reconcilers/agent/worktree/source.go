package worktree

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/google/go-github/v89/github"
)

// File modes as git and GitHub's tree API spell them.
const (
	ModeFile       = "100644"
	ModeExecutable = "100755"
	ModeSymlink    = "120000"
	ModeSubmodule  = "160000"
)

// Entry is one non-directory entry of the starting tree: a blob (file,
// executable or symbolic link) or a submodule (a commit).
type Entry struct {
	Path string
	Mode string // ModeFile, ModeExecutable, ModeSymlink or ModeSubmodule
	SHA  string // blob SHA (commit SHA for a submodule); "" if unknown
	Size int64  // blob size in bytes; 0 if unknown
}

// regular reports whether the entry is a file whose content tend may read
// and write (git also knows the legacy mode 100664 for regular files).
func (e Entry) regular() bool { return strings.HasPrefix(e.Mode, "100") }

func (e Entry) symlink() bool { return e.Mode == ModeSymlink }

// Source is a repository tree at one commit.
type Source interface {
	// Entries lists the tree; a Tree calls it once.
	Entries(ctx context.Context) ([]Entry, error)
	// Read returns an entry's content. A Tree calls it at most once per
	// blob SHA and run.
	Read(ctx context.Context, e Entry) ([]byte, error)
}

// Overlay is a Source: Base, except that the paths in Files have other
// content (nil: the file is absent). A run that continues a bot PR starts
// from the base tree plus the PR's changed files; Changes is then relative
// to the overlay, and the caller carries the PR's other files over and
// compares with the base branch. A file keeps its mode in Base (an
// executable stays one); new files are ModeFile.
type Overlay struct {
	Base  Source
	Files map[string]*[]byte
}

// Entries implements Source.
func (o Overlay) Entries(ctx context.Context) ([]Entry, error) {
	base, err := o.Base.Entries(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(base)+len(o.Files))
	seen := map[string]bool{}
	for _, e := range base {
		if d, ok := o.Files[e.Path]; ok {
			seen[e.Path] = true
			if d == nil {
				continue
			}
			mode := e.Mode
			if !e.regular() {
				mode = ModeFile // a PR replaced a link or submodule with a file
			}
			e = Entry{Path: e.Path, Mode: mode, SHA: gitBlobSHA(*d), Size: int64(len(*d))}
		}
		out = append(out, e)
	}
	for p, d := range o.Files {
		if d != nil && !seen[p] {
			out = append(out, Entry{Path: p, Mode: ModeFile, SHA: gitBlobSHA(*d), Size: int64(len(*d))})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// Read implements Source.
func (o Overlay) Read(ctx context.Context, e Entry) ([]byte, error) {
	if d, ok := o.Files[e.Path]; ok {
		if d == nil {
			return nil, fmt.Errorf("read %s: deleted in the overlay", e.Path)
		}
		return append([]byte(nil), (*d)...), nil
	}
	return o.Base.Read(ctx, e)
}

// gitBlobSHA is the SHA-1 git gives a blob with this content; comparing it
// with the tree's SHA tells whether a write changed a file without reading
// the original.
func gitBlobSHA(data []byte) string {
	h := sha1.New()
	h.Write([]byte("blob " + strconv.Itoa(len(data)) + "\x00"))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// MemSource is a Source held in memory, for tests and for callers that
// already hold the files. It counts reads, so tests can check laziness.
// It is safe for concurrent use.
type MemSource struct {
	mu      sync.Mutex
	entries map[string]memEntry
	reads   int
	fail    error
}

type memEntry struct {
	mode string
	data []byte
}

// NewMemSource returns a MemSource holding files (path → content) as
// regular files.
func NewMemSource(files map[string]string) *MemSource {
	m := &MemSource{entries: map[string]memEntry{}}
	for p, c := range files {
		m.Add(p, ModeFile, []byte(c))
	}
	return m
}

// Add adds or replaces an entry. For a symbolic link, data is the link's
// target; for a submodule it is ignored.
func (m *MemSource) Add(path, mode string, data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries[path] = memEntry{mode: mode, data: append([]byte(nil), data...)}
}

// FailReads makes every later Read fail with err (nil: succeed again).
func (m *MemSource) FailReads(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail = err
}

// Reads is the number of Read calls so far.
func (m *MemSource) Reads() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reads
}

// Entries implements Source.
func (m *MemSource) Entries(ctx context.Context) ([]Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Entry, 0, len(m.entries))
	for p, e := range m.entries {
		sha := gitBlobSHA(e.data)
		if e.mode == ModeSubmodule {
			sha = fmt.Sprintf("%040x", len(p)) // any commit SHA: never read
		}
		out = append(out, Entry{Path: p, Mode: e.mode, SHA: sha, Size: int64(len(e.data))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// Read implements Source.
func (m *MemSource) Read(ctx context.Context, e Entry) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	if m.fail != nil {
		return nil, m.fail
	}
	me, ok := m.entries[e.Path]
	if !ok || me.mode == ModeSubmodule {
		return nil, fmt.Errorf("read %s: not a blob", e.Path)
	}
	return append([]byte(nil), me.data...), nil
}

// GitHubSource reads the tree treeSHA (a tree or commit SHA) of owner/repo
// through GitHub's Git Data API. Listing asks for the recursive tree once;
// when GitHub truncates it (over 100,000 entries or 7 MB), the listing
// walks the tree instead: each subtree is asked for recursively, and only a
// subtree that is itself truncated is opened level by level, so the number
// of requests grows with the repository's size only where it must.
//
// Contents are read as blobs by SHA: an immutable resource, so the answer
// can be cached by the HTTP layer as well as by the Tree. The JSON form
// (base64) is used rather than the raw media type because it is what every
// GitHub (and tend's fake) serves alike; the content is checked against
// its SHA.
func GitHubSource(client *github.Client, owner, repo, treeSHA string) Source {
	return &ghSource{client: client, owner: owner, repo: repo, tree: treeSHA, maxTrees: 2000}
}

type ghSource struct {
	client      *github.Client
	owner, repo string
	tree        string
	maxTrees    int // tree requests a truncated listing may make
}

func (s *ghSource) Entries(ctx context.Context) ([]Entry, error) {
	root, _, err := s.client.Git.GetTree(ctx, s.owner, s.repo, s.tree, true)
	if err != nil {
		return nil, fmt.Errorf("list tree %s of %s/%s: %w", short(s.tree), s.owner, s.repo, err)
	}
	var out []Entry
	if !root.GetTruncated() {
		return appendEntries(out, "", root.Entries), nil
	}
	requests := 1
	get := func(sha, dir string, recursive bool) (*github.Tree, error) {
		if requests >= s.maxTrees {
			return nil, fmt.Errorf("list tree of %s/%s: the repository is too large (more than %d tree requests)", s.owner, s.repo, s.maxTrees)
		}
		requests++
		t, _, err := s.client.Git.GetTree(ctx, s.owner, s.repo, sha, recursive)
		if err != nil {
			return nil, fmt.Errorf("list tree %q of %s/%s: %w", dir, s.owner, s.repo, err)
		}
		return t, nil
	}
	// open lists one directory level and descends into its subtrees.
	var open func(sha, dir string) error
	open = func(sha, dir string) error {
		level, err := get(sha, dir, false)
		if err != nil {
			return err
		}
		if level.GetTruncated() {
			// One directory over GitHub's limit: nothing lists it whole.
			return fmt.Errorf("list tree of %s/%s: directory %q has too many entries to list", s.owner, s.repo, dir)
		}
		out = appendEntries(out, dir, level.Entries)
		for _, e := range level.Entries {
			if e.GetType() != "tree" {
				continue
			}
			sub := join(dir, e.GetPath())
			t, err := get(e.GetSHA(), sub, true)
			if err != nil {
				return err
			}
			if !t.GetTruncated() {
				out = appendEntries(out, sub, t.Entries)
				continue
			}
			if err := open(e.GetSHA(), sub); err != nil {
				return err
			}
		}
		return nil
	}
	if err := open(root.GetSHA(), ""); err != nil {
		return nil, err
	}
	return out, nil
}

// appendEntries adds the blob and submodule entries of a tree listing
// (paths relative to dir); directories are implied by their contents.
func appendEntries(out []Entry, dir string, entries []*github.TreeEntry) []Entry {
	for _, e := range entries {
		switch e.GetType() {
		case "blob", "commit":
			out = append(out, Entry{Path: join(dir, e.GetPath()), Mode: e.GetMode(), SHA: e.GetSHA(), Size: int64(e.GetSize())})
		}
	}
	return out
}

func join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

func (s *ghSource) Read(ctx context.Context, e Entry) ([]byte, error) {
	if e.SHA == "" {
		return nil, fmt.Errorf("read %s: no blob SHA", e.Path)
	}
	b, _, err := s.client.Git.GetBlob(ctx, s.owner, s.repo, e.SHA)
	if err != nil {
		return nil, fmt.Errorf("read blob %s (%s): %w", short(e.SHA), e.Path, err)
	}
	var data []byte
	switch enc := b.GetEncoding(); enc {
	case "base64":
		// GitHub wraps base64 at 60 columns.
		clean := strings.Map(func(r rune) rune {
			if r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, b.GetContent())
		data, err = base64.StdEncoding.DecodeString(clean)
		if err != nil {
			return nil, fmt.Errorf("read blob %s (%s): decode base64: %w", short(e.SHA), e.Path, err)
		}
	case "utf-8", "utf8", "":
		data = []byte(b.GetContent())
	default:
		return nil, fmt.Errorf("read blob %s (%s): unknown encoding %q", short(e.SHA), e.Path, enc)
	}
	if len(e.SHA) == 40 && !strings.EqualFold(gitBlobSHA(data), e.SHA) {
		return nil, fmt.Errorf("read blob %s (%s): %w", short(e.SHA), e.Path, errBlobMismatch)
	}
	return data, nil
}

var errBlobMismatch = errors.New("content does not match its SHA")

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// isBinary decides like git: a NUL byte in the first 8000 bytes. (The
// tools also refuse text that is not valid UTF-8: the model only sees and
// writes UTF-8 strings and would corrupt it.)
func isBinary(data []byte) bool {
	head := data
	if len(head) > 8000 {
		head = head[:8000]
	}
	return bytes.IndexByte(head, 0) >= 0
}
