package worktree

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// MaxDirEntries bounds the entries DirSource lists, as GitHub's recursive
// tree listing stops at 100,000 entries.
const MaxDirEntries = 100_000

// DirSource is a Source reading a local checkout (`tend plan`): the
// directory's files as they are on disk, .git left out. It only ever opens
// files for reading, through an os.Root, so no path — not a symbolic link
// pointing outside — reaches beyond the directory. Executables keep their
// mode; symbolic links are entries whose content is their target; a nested
// repository (a directory with its own .git) is a submodule.
//
// Contents are read lazily; entries carry sizes but no SHAs, so a Tree
// compares contents instead. A file that changes size between listing and
// reading is an error rather than a silent partial read. Close it when
// done.
type DirSource struct {
	dir  string
	root *os.Root
}

// OpenDir returns a DirSource on dir.
func OpenDir(dir string) (*DirSource, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	return &DirSource{dir: dir, root: root}, nil
}

// Close releases the directory.
func (s *DirSource) Close() error { return s.root.Close() }

// Entries implements Source.
func (s *DirSource) Entries(ctx context.Context) ([]Entry, error) {
	var out []Entry
	err := fs.WalkDir(s.root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		if len(out) >= MaxDirEntries {
			return fmt.Errorf("more than %d entries", MaxDirEntries)
		}
		e, descend, err := s.entry(p, d)
		if err != nil {
			return err
		}
		if e.Path != "" {
			out = append(out, e)
		}
		if d.IsDir() && !descend {
			return fs.SkipDir
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", s.dir, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// entry describes one walked path: an Entry (Path "" for none), and for a
// directory whether to descend into it.
func (s *DirSource) entry(p string, d fs.DirEntry) (e Entry, descend bool, err error) {
	switch {
	case d.IsDir() && d.Name() == ".git":
		return Entry{}, false, nil
	case d.IsDir():
		if _, err := s.root.Lstat(filepath.Join(filepath.FromSlash(p), ".git")); err == nil {
			return Entry{Path: p, Mode: ModeSubmodule}, false, nil
		}
		return Entry{}, true, nil
	case d.Type()&fs.ModeSymlink != 0:
		target, err := s.root.Readlink(filepath.FromSlash(p))
		if err != nil {
			return Entry{}, false, err
		}
		return Entry{Path: p, Mode: ModeSymlink, Size: int64(len(target))}, false, nil
	case d.Type().IsRegular():
		info, err := d.Info()
		if err != nil {
			return Entry{}, false, err
		}
		mode := ModeFile
		if info.Mode().Perm()&0o111 != 0 {
			mode = ModeExecutable
		}
		return Entry{Path: p, Mode: mode, Size: info.Size()}, false, nil
	}
	return Entry{}, false, nil // sockets, devices, pipes: not in a repository
}

// Read implements Source.
func (s *DirSource) Read(ctx context.Context, e Entry) ([]byte, error) {
	name := filepath.FromSlash(e.Path)
	switch e.Mode {
	case ModeSymlink:
		target, err := s.root.Readlink(name)
		if err != nil {
			return nil, fmt.Errorf("read link %s: %w", e.Path, err)
		}
		return []byte(target), nil
	case ModeSubmodule:
		return nil, fmt.Errorf("read %s: a submodule has no content", e.Path)
	}
	f, err := s.root.Open(name)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", e.Path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, e.Size+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", e.Path, err)
	}
	if int64(len(data)) != e.Size {
		return nil, fmt.Errorf("read %s: %w", e.Path, errChangedOnDisk)
	}
	return data, nil
}

var errChangedOnDisk = errors.New("the file changed size while tend was reading the checkout")
