package worktree

import (
	"strings"

	"golang.org/x/text/unicode/norm"
)

// foldName is the name a case-insensitive, normalization-insensitive file
// system (macOS, Windows) sees for p: NFC, lower case, without the code
// points HFS+ ignores. Two different git paths with the same folded name
// are one file on such a checkout, so a write to the new one lands on the
// old one, which may be outside edits or a symbolic link.
func foldName(p string) string {
	p = strings.Map(func(r rune) rune {
		if hfsIgnorable(r) {
			return -1
		}
		return r
	}, p)
	return strings.ToLower(norm.NFC.String(p))
}

// addFolds records p and its directories under their folded names.
func (t *Tree) addFolds(p string) {
	for i := 1; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' {
			continue
		}
		q := p[:i]
		f := foldName(q)
		names := t.folds[f]
		known := false
		for _, n := range names {
			known = known || n == q
		}
		if !known {
			t.folds[f] = append(names, q)
		}
	}
}

// collision refuses a write that would create a file or directory whose
// name differs only in case or Unicode normalization from one that
// exists. Names that already exist exactly are not new and pass.
func (t *Tree) collision(p string) error {
	for i := 1; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' {
			continue
		}
		q := p[:i]
		if t.exists(q) || t.isDir(q) {
			continue
		}
		for _, other := range t.folds[foldName(q)] {
			if other != q && (t.exists(other) || t.isDir(other)) {
				return refusef("%q differs only in case or Unicode normalization from %q, which exists; on case-insensitive checkouts (macOS, Windows) both name the same file, so choose another name", q, other)
			}
		}
	}
	return nil
}
