package worktree

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/tend-app/tend/internal/clip"
)

// view returns the current view's paths in order: the starting tree
// without deletions, plus files created in this run.
func (t *Tree) view() []string {
	var added []string
	for p, s := range t.cur {
		if _, inBase := t.base[p]; !inBase && !s.deleted {
			added = append(added, p)
		}
	}
	sort.Strings(added)
	out := make([]string, 0, len(t.order)+len(added))
	i, j := 0, 0
	for i < len(t.order) || j < len(added) {
		if j >= len(added) || (i < len(t.order) && t.order[i] < added[j]) {
			p := t.order[i]
			i++
			if s, ok := t.cur[p]; ok && s.deleted {
				continue
			}
			out = append(out, p)
		} else {
			out = append(out, added[j])
			j++
		}
	}
	return out
}

func describe(e Entry) string {
	switch {
	case e.symlink():
		return " (symbolic link)"
	case e.Mode == ModeSubmodule:
		return " (submodule)"
	}
	return ""
}

// listFiles answers list_files: a directory's entries, or the files that
// match a glob.
func (t *Tree) listFiles(ctx context.Context, a args) (result, error) {
	dir := ""
	p, hasPath, err := a.str("path", maxRawPathBytes)
	if err != nil {
		return result{}, err
	}
	if hasPath && p != "" && p != "." && p != "/" {
		if dir, err = CleanPath(p); err != nil {
			return result{}, err
		}
	}
	g, hasGlob, err := a.glob(dir)
	if err != nil {
		return result{target: g}, err
	}
	l := &listing{limit: t.pol.MaxListResults}
	target := g
	if hasGlob {
		t.listGlob(l, g)
	} else {
		if err := t.listDir(l, dir); err != nil {
			return result{target: dir}, err
		}
		target = cmp.Or(dir, ".")
	}
	out := strings.Join(l.lines, "\n")
	switch {
	case l.total == 0 && hasGlob:
		out = "no files match " + strconv.Quote(g)
	case l.total == 0:
		out = "the repository is empty"
	case l.total > len(l.lines):
		out += fmt.Sprintf("\n(showing %d of %d entries; use a narrower directory or glob to see the rest)", len(l.lines), l.total)
	}
	return result{out: map[string]any{"output": out}, target: target, detail: fmt.Sprintf("%d entries", l.total)}, nil
}

// listing collects list_files' lines up to a limit, counting them all.
type listing struct {
	limit int
	lines []string
	total int
}

func (l *listing) add(s string) {
	l.total++
	if len(l.lines) < l.limit {
		l.lines = append(l.lines, s)
	}
}

// listGlob lists the files that match g.
func (t *Tree) listGlob(l *listing, g string) {
	for _, q := range t.view() {
		if ok, _ := doublestar.Match(g, q); ok {
			e, _ := t.lookup(q)
			l.add(q + describe(e))
		}
	}
}

// listDir lists the entries directly inside dir ("" is the root);
// subdirectories end in /.
func (t *Tree) listDir(l *listing, dir string) error {
	if dir != "" && !t.isDir(dir) {
		if e, ok := t.lookup(dir); ok {
			return fmt.Errorf("%q is a file%s, not a directory", dir, describe(e))
		}
		return t.notFound(dir)
	}
	prefix := ""
	if dir != "" {
		prefix = dir + "/"
	}
	seen := map[string]bool{}
	for _, q := range t.view() {
		rest, ok := strings.CutPrefix(q, prefix)
		if !ok {
			continue
		}
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			if sub := prefix + rest[:i] + "/"; !seen[sub] {
				seen[sub] = true
				l.add(sub)
			}
			continue
		}
		e, _ := t.lookup(q)
		l.add(q + describe(e))
	}
	return nil
}

// textOf returns a file's current content as text, or an error saying why
// it is not readable as text.
func (t *Tree) textOf(ctx context.Context, p string) (string, error) {
	e, ok := t.lookup(p)
	if !ok {
		return "", t.notFound(p)
	}
	switch {
	case e.symlink():
		target, err := t.fetch(ctx, e, budget{limited: true})
		if err != nil {
			return "", err
		}
		return "", fmt.Errorf("%q is a symbolic link to %q; links are not followed (read the target's path instead, if it is in the repository)", p, clip.Text(string(target), 512, "…"))
	case e.Mode == ModeSubmodule:
		return "", refusef("%q is a submodule; submodules are neither read nor written", p)
	case !e.regular():
		return "", refusef("%q has mode %s, which tend does not read", p, e.Mode)
	}
	data, err := t.content(ctx, p, budget{limited: true})
	if err != nil {
		return "", err
	}
	if isBinary(data) {
		return "", fmt.Errorf("%q is a binary file (%d bytes); binary files cannot be read or edited", p, len(data))
	}
	if !utf8.Valid(data) {
		return "", fmt.Errorf("%q is not UTF-8 text (%d bytes); it cannot be read or edited", p, len(data))
	}
	return string(data), nil
}

// countLines counts lines the way editors number them: a final line
// without a newline counts, an empty file has none.
func countLines(s string) int {
	n := strings.Count(s, "\n")
	if s != "" && !strings.HasSuffix(s, "\n") {
		n++
	}
	return n
}

// readFile answers read_file: a range of a text file's lines, as many
// as fit in one answer.
func (t *Tree) readFile(ctx context.Context, a args) (result, error) {
	raw, err := a.required("path", maxRawPathBytes)
	if err != nil {
		return result{}, err
	}
	p, err := CleanPath(raw)
	if err != nil {
		return result{}, err
	}
	res := result{target: p}
	offset, limit, err := lineRange(a)
	if err != nil {
		return res, err
	}
	text, err := t.textOf(ctx, p)
	if err != nil {
		return res, err
	}
	total := countLines(text)
	if total == 0 {
		res.out = map[string]any{"output": "", "total_lines": 0, "note": "the file is empty"}
		res.detail = "empty"
		return res, nil
	}
	if offset > total {
		return res, fmt.Errorf("offset %d is past the end of %q, which has %d lines", offset, p, total)
	}
	out, end, note := t.readLines(text, offset, limit, total)
	t.stats.BytesRead += int64(len(out))
	res.out = map[string]any{"output": out, "start_line": offset, "end_line": end, "total_lines": total}
	if end < total {
		more := fmt.Sprintf("showing lines %d-%d of %d; call read_file with offset %d to read on", offset, end, total, end+1)
		if note != "" {
			note += "; " + more
		} else {
			note = more
		}
	}
	if note != "" {
		res.out["note"] = note
	}
	res.detail = fmt.Sprintf("lines %d-%d of %d", offset, end, total)
	return res, nil
}

// lineRange reads read_file's offset (1-based, default 1) and limit
// (default: as many lines as fit).
func lineRange(a args) (offset, limit int, err error) {
	offset, hasOffset, err := a.integer("offset")
	if err != nil {
		return 0, 0, err
	}
	if !hasOffset {
		offset = 1
	}
	if offset < 1 {
		return 0, 0, errors.New("offset is a 1-based line number and must be at least 1")
	}
	limit, hasLimit, err := a.integer("limit")
	if err != nil {
		return 0, 0, err
	}
	if !hasLimit || limit > maxLimitLines {
		limit = maxLimitLines
	}
	if limit < 1 {
		return 0, 0, errors.New("limit must be at least 1")
	}
	return offset, limit, nil
}

// readLines returns up to limit lines of text from line offset on, within
// the policy's bytes per answer, and the number of the last line shown. A
// single line longer than an answer is shown in part, with a note.
func (t *Tree) readLines(text string, offset, limit, total int) (out string, end int, note string) {
	// Find the byte where line offset starts.
	start := 0
	for line := 1; line < offset; line++ {
		start += strings.IndexByte(text[start:], '\n') + 1
	}
	var b strings.Builder
	end = offset - 1 // last line fully included
	pos := start
	for end < total && end-offset+1 < limit {
		nl := strings.IndexByte(text[pos:], '\n')
		next := len(text)
		if nl >= 0 {
			next = pos + nl + 1
		}
		line := text[pos:next]
		if b.Len()+len(line) > t.pol.MaxReadBytes {
			if b.Len() == 0 {
				// One line longer than a whole answer: show its start.
				b.WriteString(clip.Text(line, t.pol.MaxReadBytes, "…"))
				end++
				note = fmt.Sprintf("line %d is %d bytes long; only its first %d bytes are shown", end, len(line), b.Len())
			}
			break
		}
		b.WriteString(line)
		end++
		pos = next
	}
	return b.String(), end, note
}
