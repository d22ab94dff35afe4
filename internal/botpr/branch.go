package botpr

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tend-app/tend/internal/keys"
)

// maxBranchLen keeps branch names well inside Git's and GitHub's limits.
const maxBranchLen = 200

// BranchName is the branch of a key's PR: tend/<rule>/<path> for a path,
// tend/<rule>/issue-<n> for an issue. Characters Git forbids in ref names
// are replaced; when that changes the name, or it is too long, a short hash
// of the key is added so that two keys never share a branch.
func BranchName(k keys.Key) string {
	var tail string
	switch k.Kind() {
	case keys.KindIssue:
		tail = "issue-" + strconv.Itoa(k.Issue)
	case keys.KindPath:
		tail = k.Path
	default:
		tail = "all"
	}
	clean := sanitizeRef(tail)
	name := BranchPrefix + k.Rule + "/" + clean
	if clean != tail || len(name) > maxBranchLen {
		sum := sha256.Sum256([]byte(k.String()))
		suffix := "-" + hex.EncodeToString(sum[:4])
		if len(name)+len(suffix) > maxBranchLen {
			cut := maxBranchLen - len(suffix)
			for cut > 0 && !utf8.RuneStart(name[cut]) {
				cut-- // never split a character: a ref name must be valid UTF-8
			}
			name = strings.TrimRight(name[:cut], "./-")
		}
		name += suffix
	}
	return name
}

// sanitizeRef makes s valid inside a Git ref name (git check-ref-format):
// no control characters, spaces or ~^:?*[\, no "..", no "@{", no component
// starting with "." or ending with ".lock", no trailing "." or "/".
func sanitizeRef(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 0x20 || r == 0x7f || strings.ContainsRune(" ~^:?*[\\", r):
			b.WriteByte('-')
		default:
			b.WriteRune(r)
		}
	}
	out := b.String()
	for strings.Contains(out, "..") {
		out = strings.ReplaceAll(out, "..", ".-")
	}
	out = strings.ReplaceAll(out, "@{", "@-")
	parts := strings.Split(out, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ".") {
			p = "-" + p[1:]
		}
		if strings.HasSuffix(p, ".lock") {
			p = strings.TrimSuffix(p, ".lock") + "-lock"
		}
		if p == "" {
			p = "-"
		}
		parts[i] = p
	}
	out = strings.Join(parts, "/")
	out = strings.TrimRight(out, ".")
	if out == "" || out == "@" {
		out = "-"
	}
	return out
}
