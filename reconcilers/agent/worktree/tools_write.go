package worktree

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// writing adapts a tool that writes the path argument: the tool runs only
// once the path is cleaned and has passed every write check.
func writing(run func(t *Tree, ctx context.Context, p string, a args) (result, error)) func(*Tree, context.Context, args) (result, error) {
	return func(t *Tree, ctx context.Context, a args) (result, error) {
		p, err := t.writable(a)
		if err != nil {
			return result{target: p}, err
		}
		return run(t, ctx, p, a)
	}
}

// writable cleans a path argument and runs every write check on it.
func (t *Tree) writable(a args) (string, error) {
	raw, err := a.required("path", maxRawPathBytes)
	if err != nil {
		return "", err
	}
	p, err := CleanPath(raw)
	if err != nil {
		return "", err
	}
	if err := t.pol.MayWrite(p); err != nil {
		return p, err
	}
	if err := t.structural(p); err != nil {
		return p, err
	}
	// Changing a file needs its base content for the change set; files
	// too large to fetch are left alone.
	if e, ok := t.base[p]; ok && e.Size > int64(t.pol.MaxSourceFileBytes) {
		return p, refusef("%q is %d bytes; files over %d bytes are not changed", p, e.Size, t.pol.MaxSourceFileBytes)
	}
	return p, nil
}

// writeFile answers write_file: it creates or replaces the file at p.
func (t *Tree) writeFile(ctx context.Context, p string, a args) (result, error) {
	res := result{target: p}
	content, present, err := a.str("content", t.pol.MaxFileBytes)
	if err != nil {
		return res, err
	}
	if !present {
		return res, errors.New("argument \"content\" is required (use an empty string for an empty file)")
	}
	verb := "created"
	if t.exists(p) {
		verb = "replaced"
	}
	_, wasChanged := t.cur[p]
	if err := t.commit(ctx, p, &state{data: []byte(content)}); err != nil {
		return res, err
	}
	if _, changed := t.cur[p]; !changed {
		verb = "unchanged (same as the original)"
		if wasChanged {
			verb = "restored to its original content"
		}
	}
	t.stats.BytesWritten += int64(len(content))
	res.out = map[string]any{"output": fmt.Sprintf("%s %s (%d bytes, %d lines)", verb, p, len(content), countLines(content))}
	res.detail = fmt.Sprintf("%s, %d bytes", verb, len(content))
	return res, nil
}

// editFile answers edit_file: it replaces one exact piece of the file at p.
func (t *Tree) editFile(ctx context.Context, p string, a args) (result, error) {
	res := result{target: p}
	oldText, err := a.required("old_text", t.pol.MaxFileBytes)
	if err != nil {
		return res, err
	}
	newText, err := a.required("new_text", t.pol.MaxFileBytes)
	if err != nil {
		return res, err
	}
	if oldText == "" {
		return res, errors.New("old_text must not be empty; use write_file to create or replace a whole file")
	}
	if oldText == newText {
		return res, errors.New("old_text and new_text are the same; nothing would change")
	}
	text, err := t.textOf(ctx, p)
	if err != nil {
		return res, err
	}
	switch n := strings.Count(text, oldText); n {
	case 0:
		hint := "read the file again and copy the text exactly, including whitespace and indentation"
		if strings.Contains(text, "\r\n") && !strings.Contains(oldText, "\r") && strings.Contains(oldText, "\n") {
			hint = "the file has CRLF (\\r\\n) line endings; include the \\r in old_text"
		}
		return res, fmt.Errorf("old_text was not found in %q; %s", p, hint)
	case 1:
	default:
		return res, fmt.Errorf("old_text matches %d places in %q; include more surrounding lines so that it matches exactly one", n, p)
	}
	i := strings.Index(text, oldText)
	updated := text[:i] + newText + text[i+len(oldText):]
	if err := t.commit(ctx, p, &state{data: []byte(updated)}); err != nil {
		return res, err
	}
	t.stats.BytesWritten += int64(len(newText))
	first := countLines(text[:i]) + 1
	if i > 0 && !strings.HasSuffix(text[:i], "\n") {
		first-- // the edit starts inside a line already counted
	}
	last := first + strings.Count(newText, "\n")
	if strings.HasSuffix(newText, "\n") && last > first {
		last--
	}
	res.out = map[string]any{"output": fmt.Sprintf("edited %s: replaced 1 occurrence; the new text is at lines %d-%d of %d", p, first, last, countLines(updated))}
	res.detail = fmt.Sprintf("lines %d-%d", first, last)
	return res, nil
}

// deleteFile answers delete_file.
func (t *Tree) deleteFile(ctx context.Context, p string, a args) (result, error) {
	res := result{target: p}
	if !t.exists(p) {
		return res, t.notFound(p)
	}
	if err := t.commit(ctx, p, &state{deleted: true}); err != nil {
		return res, err
	}
	res.out = map[string]any{"output": "deleted " + p}
	res.detail = "deleted"
	return res, nil
}
