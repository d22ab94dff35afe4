package images

import (
	"bytes"
	"regexp"
	"strings"
)

var (
	// directiveRe matches a parser directive such as `# escape=`` `.
	directiveRe = regexp.MustCompile(`^#[ \t]*([a-zA-Z][a-zA-Z0-9_]*)[ \t]*=[ \t]*(\S*)[ \t]*$`)
	// heredocRe matches a heredoc word as BuildKit accepts it: <<EOF,
	// <<-EOF, <<"EOF", <<'EOF', optionally after a file descriptor.
	heredocRe = regexp.MustCompile(`^[0-9]*<<(-?)(["']?)([^"'<\s]+)(["']?)$`)
)

// dfToken is one whitespace-separated word of a Dockerfile instruction.
type dfToken struct {
	start, end int    // byte range in the file
	text       string // the word as Docker sees it
	// split is set when the word continues across a line continuation
	// ("ngi\" + newline + "nx"): its bytes are not contiguous in the file, so
	// it cannot be rewritten in place.
	split bool
}

// sub returns the part of t from byte k of its text on.
func (t dfToken) sub(k int) dfToken {
	return dfToken{start: t.start + k, end: t.end, text: t.text[k:], split: t.split}
}

// unquote strips one pair of matching quotes around the whole word.
func (t dfToken) unquote() dfToken {
	if !t.split && len(t.text) >= 2 && (t.text[0] == '"' || t.text[0] == '\'') && t.text[len(t.text)-1] == t.text[0] {
		return dfToken{start: t.start + 1, end: t.end - 1, text: t.text[1 : len(t.text)-1]}
	}
	return t
}

// lineBounds returns the byte range of line i (0-based) without "\n" or
// "\r\n", and without a UTF-8 byte order mark on the first line (editors on
// Windows write one; Docker and YAML parsers skip it).
func (f *finder) lineBounds(i int) (start, end int) {
	start = f.lines[i]
	if i == 0 && bytes.HasPrefix(f.content, []byte("\xef\xbb\xbf")) {
		start = 3
	}
	end = len(f.content)
	if i+1 < len(f.lines) {
		end = f.lines[i+1] - 1
	}
	if end > start && f.content[end-1] == '\r' {
		end--
	}
	return start, end
}

func isBlank(b byte) bool { return b == ' ' || b == '\t' }

// dockerfile finds references in a Dockerfile. It follows Docker's own
// reading of the file closely enough to know which words are images: line
// continuations (with the escape character from a `# escape=` directive),
// comment lines inside continuations, and heredoc bodies, which are skipped.
func (f *finder) dockerfile() {
	c := f.content
	escape := byte('\\')
	// Parser directives come first; the first line that is not one ends them.
	for i := range f.lines {
		s, e := f.lineBounds(i)
		m := directiveRe.FindSubmatch(c[s:e])
		if m == nil {
			break
		}
		if strings.EqualFold(string(m[1]), "escape") && len(m[2]) == 1 && (m[2][0] == '`' || m[2][0] == '\\') {
			escape = m[2][0]
		}
	}

	stages := map[string]bool{} // names of the stages defined so far, lower-case
	pendingIgnore := false
	for i := 0; i < len(f.lines); {
		s, e := f.lineBounds(i)
		trimmed := bytes.TrimLeft(c[s:e], " \t")
		if len(trimmed) == 0 {
			i++
			continue
		}
		if trimmed[0] == '#' {
			if marked(ownIgnoreRe, c[s:e]) {
				pendingIgnore = true
			}
			i++
			continue
		}

		// An instruction: gather its words across continuation lines.
		ignored := ""
		if pendingIgnore {
			ignored = "# tend:ignore above the instruction"
			pendingIgnore = false
		}
		var toks []dfToken
		first, joinNext := true, false
		for i < len(f.lines) {
			s, e := f.lineBounds(i)
			line := c[s:e]
			i++
			if !first {
				// Docker drops comment lines and (with a warning) empty
				// lines inside a continued instruction.
				tl := bytes.TrimLeft(line, " \t")
				if len(tl) == 0 || tl[0] == '#' {
					if ignored == "" && marked(ownIgnoreRe, line) {
						ignored = "# tend:ignore inside the instruction"
					}
					continue
				}
			}
			first = false
			if ignored == "" && marked(ignoreRe, line) {
				ignored = "# tend:ignore on the instruction"
			}
			segEnd := len(bytes.TrimRight(line, " \t")) + s
			cont := segEnd > s && c[segEnd-1] == escape
			if cont {
				segEnd--
			}
			for k := s; k < segEnd; {
				if isBlank(c[k]) {
					k++
					continue
				}
				j := k
				for j < segEnd && !isBlank(c[j]) {
					j++
				}
				tok := dfToken{start: k, end: j, text: string(c[k:j])}
				if k == s && joinNext && len(toks) > 0 {
					last := &toks[len(toks)-1]
					last.end, last.text, last.split = j, last.text+tok.text, true
				} else {
					toks = append(toks, tok)
				}
				k = j
			}
			joinNext = cont && segEnd > s && !isBlank(c[segEnd-1])
			if !cont {
				break
			}
		}
		if len(toks) == 0 {
			continue
		}
		kw := strings.ToUpper(toks[0].text)
		f.dockerInstruction(kw, toks[1:], ignored, stages)
		if kw == "RUN" || kw == "COPY" || kw == "ADD" {
			i = f.skipHeredocs(i, toks[1:])
		}
	}
}

// skipHeredocs returns the index of the first line after the bodies of the
// heredocs an instruction opens, so that their text (shell scripts, files
// that may well say "FROM") is not read as instructions.
func (f *finder) skipHeredocs(i int, args []dfToken) int {
	for _, a := range args {
		m := heredocRe.FindStringSubmatch(a.text)
		if m == nil || m[2] != m[4] {
			continue
		}
		stripTabs, word := m[1] == "-", m[3]
		for i < len(f.lines) {
			s, e := f.lineBounds(i)
			line := f.content[s:e]
			i++
			if stripTabs {
				line = bytes.TrimLeft(line, "\t")
			}
			if string(line) == word {
				break
			}
		}
	}
	return i
}

func (f *finder) dockerInstruction(kw string, args []dfToken, ignored string, stages map[string]bool) {
	switch kw {
	case "FROM":
		// FROM [--platform=…] image [AS name]
		j := 0
		for j < len(args) && strings.HasPrefix(args[j].text, "--") {
			j++
		}
		if j >= len(args) {
			return
		}
		f.dockerImage(args[j].unquote(), "Dockerfile FROM", ignored, stages)
		// A stage is known only after its FROM: `FROM x AS x` pulls image x.
		if j+2 < len(args) && strings.EqualFold(args[j+1].text, "AS") {
			stages[strings.ToLower(args[j+2].text)] = true
		}
	case "COPY":
		for _, a := range args {
			if !strings.HasPrefix(a.text, "--") {
				break
			}
			if strings.HasPrefix(a.text, "--from=") {
				f.dockerImage(a.sub(len("--from=")).unquote(), "Dockerfile COPY --from", ignored, stages)
			}
		}
	case "RUN":
		for _, a := range args {
			if !strings.HasPrefix(a.text, "--") {
				break
			}
			if !strings.HasPrefix(a.text, "--mount=") {
				continue
			}
			// --mount=type=bind,from=image,source=/x,target=/y
			k := len("--mount=")
			for _, field := range strings.Split(a.text[k:], ",") {
				if strings.HasPrefix(field, "from=") {
					v := a.sub(k + len("from="))
					v.text = field[len("from="):]
					v.end = v.start + len(v.text)
					f.dockerImage(v.unquote(), "Dockerfile RUN --mount", ignored, stages)
				}
				k += len(field) + 1
			}
		}
	}
}

// dockerImage considers a word that names an image, a stage, or nothing.
func (f *finder) dockerImage(t dfToken, source, ignored string, stages map[string]bool) {
	line := f.lineOf(t.start)
	lower := strings.ToLower(t.text)
	switch {
	case t.text == "":
		return
	case lower == "scratch":
		f.note(line, "%s scratch is the empty image, not a reference; left alone", source)
	case stages[lower]:
		f.note(line, "%s %q names an earlier build stage; left alone", source, t.text)
	case source != "Dockerfile FROM" && strings.Trim(t.text, "0123456789") == "":
		f.note(line, "%s %q names a build stage by number; left alone", source, t.text)
	case t.split:
		f.note(line, "%s %q is split by a line continuation; left alone", source, t.text)
	default:
		f.consider(t.start, t.end, source, ignored)
	}
}
