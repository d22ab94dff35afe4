package images

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
)

// MaxFileSize bounds the work spent on one file. Real Dockerfiles, manifests
// and workflows are far smaller; anything bigger is generated or hostile, and
// is skipped with a note.
const MaxFileSize = 1 << 20

var (
	// ignoreFileRe matches a `# tend:ignore-file` comment anywhere.
	ignoreFileRe = regexp.MustCompile(`(?m)(?:^|[ \t])#[ \t]*tend:ignore-file(?:[^-\w]|$)`)
	// ignoreRe matches a `# tend:ignore` comment in a line, trailing or not.
	// `tend:ignore-file` and other `tend:ignore-…` words do not count.
	ignoreRe = regexp.MustCompile(`(?:^|[ \t])#[ \t]*tend:ignore(?:[^-\w]|$)`)
	// ownIgnoreRe matches a line that is only a `# tend:ignore` comment.
	ownIgnoreRe = regexp.MustCompile(`^[ \t]*#[ \t]*tend:ignore(?:[^-\w]|$)`)
)

// marked reports whether line carries the marker re matches. The plain
// substring test first keeps the regexp off the vast majority of lines.
func marked(re *regexp.Regexp, line []byte) bool {
	return bytes.Contains(line, []byte("tend:ignore")) && re.Match(line)
}

type format int

const (
	formatNone format = iota
	formatDockerfile
	formatYAML // some YAML; the content decides which kind
	formatKubernetes
	formatCompose
	formatWorkflow
	formatAction
	formatKustomize
)

// Find returns the image references in one file, in file order, and notes on
// what it left alone and why. It never fails: malformed input yields fewer
// references and a note.
//
// The format comes from the path (slash-separated, relative to the repository
// root):
//
//   - Dockerfile, Dockerfile.*, Dockerfile-*, *.dockerfile, Containerfile,
//     Containerfile.*, *.containerfile (any case): a Dockerfile.
//   - .github/workflows/*.yml|yaml: a GitHub Actions workflow.
//   - action.yml|yaml: action metadata.
//   - compose*.yml|yaml, docker-compose*.yml|yaml: a Compose file; without
//     a top-level services key, a version-1 one.
//   - kustomization.yml|yaml (any case): a kustomization, whose images:
//     entries are references, besides any image: keys.
//   - other *.yml|yaml: by content. A top-level `jobs` and `on` make a
//     workflow, `runs.using` action metadata, `services` without `apiVersion`
//     or `kind` a Compose file; anything else is searched for `image:` keys
//     (Kubernetes manifests, Helm values, CRDs, …).
//   - anything else without an extension whose first instruction is FROM or
//     ARG: a Dockerfile.
func Find(filePath string, content []byte) (refs []Ref, notes []Note) {
	f := newFinder(content)
	f.find(filePath)
	return f.result()
}

// finder accumulates the references and notes of one file.
type finder struct {
	content []byte
	// lines holds the byte offset of the start of each "\n"-separated line.
	lines []int
	refs  []Ref
	notes []Note
	seen  map[int]bool // reference start offsets already reported
	// lineIgnored caches ignoreRe per line: a long line can hold many
	// references, and matching it for each would be quadratic.
	lineIgnored map[int]bool
}

func newFinder(content []byte) *finder {
	f := &finder{content: content, lines: []int{0}, seen: map[int]bool{}, lineIgnored: map[int]bool{}}
	for i, b := range content {
		if b == '\n' {
			f.lines = append(f.lines, i+1)
		}
	}
	return f
}

func (f *finder) find(filePath string) {
	if len(f.content) > MaxFileSize {
		f.note(0, "file is %d bytes, over the %d-byte limit; not searched", len(f.content), MaxFileSize)
		return
	}
	if bytes.Contains(f.content, []byte("tend:ignore-file")) && ignoreFileRe.Match(f.content) {
		f.note(0, "file carries # tend:ignore-file; not searched")
		return
	}
	switch fm := formatOf(filePath, f.content); fm {
	case formatDockerfile:
		f.dockerfile()
	case formatNone:
		f.note(0, "not a Dockerfile or YAML file; not searched")
	default:
		f.yaml(fm)
	}
}

func (f *finder) result() ([]Ref, []Note) {
	sort.SliceStable(f.refs, func(i, j int) bool { return f.refs[i].Start < f.refs[j].Start })
	sort.SliceStable(f.notes, func(i, j int) bool { return f.notes[i].Line < f.notes[j].Line })
	// Anchors reached from several places make the same note twice.
	notes := f.notes[:0]
	for i, n := range f.notes {
		if i > 0 && n == f.notes[i-1] {
			continue
		}
		notes = append(notes, n)
	}
	return f.refs, notes
}

// formatOf picks the file format from the path, and from the content when the
// name says nothing.
func formatOf(filePath string, content []byte) format {
	p := strings.ReplaceAll(filePath, "\\", "/")
	base := strings.ToLower(path.Base(p))
	for _, stem := range []string{"dockerfile", "containerfile"} {
		if strings.HasSuffix(base, ".dockerignore") {
			break // Dockerfile.dockerignore is an ignore file
		}
		if base == stem || strings.HasSuffix(base, "."+stem) ||
			strings.HasPrefix(base, stem+".") || strings.HasPrefix(base, stem+"-") || strings.HasPrefix(base, stem+"_") {
			return formatDockerfile
		}
	}
	ext := path.Ext(base)
	if ext == ".yml" || ext == ".yaml" {
		switch {
		case strings.Contains("/"+p, "/.github/workflows/"):
			return formatWorkflow
		case base == "action.yml" || base == "action.yaml":
			return formatAction
		case strings.HasPrefix(base, "compose") || strings.HasPrefix(base, "docker-compose"):
			return formatCompose
		case base == "kustomization.yaml" || base == "kustomization.yml":
			return formatKustomize
		}
		return formatYAML
	}
	if ext == "" && looksLikeDockerfile(content) {
		return formatDockerfile
	}
	return formatNone
}

// looksLikeDockerfile reports whether the first instruction is FROM or ARG,
// the only instructions a Dockerfile may start with.
func looksLikeDockerfile(content []byte) bool {
	content = bytes.TrimPrefix(content, []byte("\xef\xbb\xbf"))
	for len(content) > 0 {
		line := content
		if i := bytes.IndexByte(content, '\n'); i >= 0 {
			line, content = content[:i], content[i+1:]
		} else {
			content = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		word, _, _ := bytes.Cut(line, []byte(" "))
		word, _, _ = bytes.Cut(word, []byte("\t"))
		return bytes.EqualFold(word, []byte("FROM")) || bytes.EqualFold(word, []byte("ARG"))
	}
	return false
}

func (f *finder) note(line int, format string, args ...any) {
	f.notes = append(f.notes, Note{Line: line, Text: fmt.Sprintf(format, args...)})
}

// lineOf returns the 1-based line of a byte offset.
func (f *finder) lineOf(off int) int {
	return sort.Search(len(f.lines), func(i int) bool { return f.lines[i] > off })
}

// lineText returns line n (1-based) without its line ending.
func (f *finder) lineText(n int) []byte {
	if n < 1 || n > len(f.lines) {
		return nil
	}
	s, e := f.lineBounds(n - 1)
	return f.content[s:e]
}

// leftAlone notes, and reports, a reference an ignore comment applies to
// (ignored, or a trailing # tend:ignore on line) or that contains a
// variable.
func (f *finder) leftAlone(line int, source, text, ignored string) bool {
	if ignored == "" && f.lineMarked(line) {
		ignored = "# tend:ignore on its line"
	}
	switch {
	case ignored != "":
		f.note(line, "%s %q: ignored (%s)", source, text, ignored)
	case hasVariable(text):
		f.note(line, "%s %q contains a variable; left alone", source, text)
	default:
		return false
	}
	return true
}

// lineMarked reports whether line carries a # tend:ignore comment.
func (f *finder) lineMarked(line int) bool {
	ign, ok := f.lineIgnored[line]
	if !ok {
		ign = marked(ignoreRe, f.lineText(line))
		f.lineIgnored[line] = ign
	}
	return ign
}

// consider reports content[start:end] as a reference, or notes why not.
// ignored, when not empty, says why an ignore comment applies.
func (f *finder) consider(start, end int, source, ignored string) {
	if start < 0 || end > len(f.content) || start > end || f.seen[start] {
		return
	}
	f.seen[start] = true
	text := string(f.content[start:end])
	if text == "" {
		return // a placeholder such as Helm's `image: ""`, not a reference
	}
	line := f.lineOf(start)
	if f.leftAlone(line, source, text, ignored) {
		return
	}
	nm, tag, digest, err := parseRef(text)
	if err != nil {
		f.note(line, "%s %q is not an image reference (%v); left alone", source, text, err)
		return
	}
	if digest != "" && tag == "" {
		f.note(line, "%s %q is pinned by digest only, with no tag to follow; left alone", source, text)
		return
	}
	f.refs = append(f.refs, Ref{
		Start: start, End: end, Line: line,
		Text: text, Name: nm, Tag: tag, Digest: digest,
		Source: source,
	})
}
