package images

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

var (
	// directiveRe matches a parser directive such as `# escape=`` ` as
	// BuildKit reads them: leading blanks and blanks around the name and
	// the "=" allowed, the name in any case.
	directiveRe = regexp.MustCompile(`^[ \t]*#[ \t]*([a-zA-Z][a-zA-Z0-9_]*)[ \t]*=[ \t]*(\S*)[ \t]*$`)
	// argRefRe matches an image word that is exactly one variable: $NAME
	// or ${NAME}, the only forms tend follows to an ARG default.
	argRefRe = regexp.MustCompile(`^\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)\})$`)
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
	escape := f.dockerDirectives()
	st := &dfState{stages: map[string]bool{}, args: map[string]*dfArg{}}
	pendingIgnore := false
	for i := 0; i < len(f.lines); {
		s, e := f.lineBounds(i)
		if isBlankOrComment(f.content[s:e]) {
			if marked(ownIgnoreRe, f.content[s:e]) {
				pendingIgnore = true
			}
			i++
			continue
		}
		in := f.readInstruction(i, escape, pendingIgnore)
		pendingIgnore = false
		i = in.next
		if len(in.words) == 0 {
			continue
		}
		kw := strings.ToUpper(in.words[0].text)
		f.dockerInstruction(kw, in.words[1:], in.ignored, st)
		if kw == "RUN" || kw == "COPY" || kw == "ADD" {
			i = f.skipHeredocs(i, in.words[1:])
		}
	}
}

// dockerDirectives reads the parser directives at the top of the file and
// returns the escape character: `\` unless "# escape=`" says otherwise.
// "# syntax=image" names the frontend image BuildKit pulls, a reference like
// any other. Parser directives come first; the first line that is not one
// ends them.
func (f *finder) dockerDirectives() byte {
	escape := byte('\\')
	for i := range f.lines {
		s, e := f.lineBounds(i)
		m := directiveRe.FindSubmatchIndex(f.content[s:e])
		if m == nil {
			break
		}
		key, value := string(f.content[s+m[2]:s+m[3]]), f.content[s+m[4]:s+m[5]]
		switch {
		case strings.EqualFold(key, "escape") && len(value) == 1 && (value[0] == '`' || value[0] == '\\'):
			escape = value[0]
		case strings.EqualFold(key, "syntax"):
			f.consider(s+m[4], s+m[5], "Dockerfile # syntax", "")
		}
	}
	return escape
}

// isBlankOrComment reports whether a line holds nothing but blanks or a
// comment.
func isBlankOrComment(line []byte) bool {
	tl := bytes.TrimLeft(line, " \t")
	return len(tl) == 0 || tl[0] == '#'
}

// dfInstruction is one Dockerfile instruction, its words gathered across
// continuation lines.
type dfInstruction struct {
	words   []dfToken
	ignored string // why the instruction is left alone (a tend:ignore mark), or ""
	next    int    // index of the first line after the instruction
}

// readInstruction reads the instruction that starts on line i, following
// line continuations. ignoredAbove says a `# tend:ignore` line precedes it.
func (f *finder) readInstruction(i int, escape byte, ignoredAbove bool) dfInstruction {
	var in dfInstruction
	if ignoredAbove {
		in.ignored = "# tend:ignore above the instruction"
	}
	first, joinNext := true, false
	for i < len(f.lines) {
		s, e := f.lineBounds(i)
		line := f.content[s:e]
		i++
		// Docker drops comment lines and (with a warning) empty lines
		// inside a continued instruction.
		if !first && isBlankOrComment(line) {
			if in.ignored == "" && marked(ownIgnoreRe, line) {
				in.ignored = "# tend:ignore inside the instruction"
			}
			continue
		}
		first = false
		if in.ignored == "" && marked(ignoreRe, line) {
			in.ignored = "# tend:ignore on the instruction"
		}
		segEnd := len(bytes.TrimRight(line, " \t")) + s
		cont := segEnd > s && f.content[segEnd-1] == escape
		if cont {
			segEnd--
		}
		in.words = f.appendWords(in.words, s, segEnd, joinNext)
		joinNext = cont && segEnd > s && !isBlank(f.content[segEnd-1])
		if !cont {
			break
		}
	}
	in.next = i
	return in
}

// appendWords appends the whitespace-separated words of content[start:end]
// to words. When join is set, a word at start continues the last word of
// the previous line (the continuation split it).
func (f *finder) appendWords(words []dfToken, start, end int, join bool) []dfToken {
	c := f.content
	for k := start; k < end; {
		if isBlank(c[k]) {
			k++
			continue
		}
		j := k
		for j < end && !isBlank(c[j]) {
			j++
		}
		tok := dfToken{start: k, end: j, text: string(c[k:j])}
		if k == start && join && len(words) > 0 {
			last := &words[len(words)-1]
			last.end, last.text, last.split = j, last.text+tok.text, true
		} else {
			words = append(words, tok)
		}
		k = j
	}
	return words
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

// dfState is what a Dockerfile's earlier instructions tell about later ones.
type dfState struct {
	stages map[string]bool // names of the stages defined so far, lower-case
	// args are the ARGs declared before the first FROM, the only ones FROM
	// can use; fromSeen ends their declaration.
	args     map[string]*dfArg
	fromSeen bool
}

// dfArg is a global ARG; value is nil when it has no default.
type dfArg struct {
	value   *dfToken
	ignored string // the ARG instruction's tend:ignore reason
}

func (f *finder) dockerInstruction(kw string, args []dfToken, ignored string, st *dfState) {
	switch kw {
	case "ARG":
		if !st.fromSeen {
			f.dockerArg(args, ignored, st)
		}
	case "FROM":
		f.dockerFrom(args, ignored, st)
	case "COPY":
		for _, a := range args {
			if !strings.HasPrefix(a.text, "--") {
				break
			}
			if strings.HasPrefix(a.text, "--from=") {
				f.dockerImage(a.sub(len("--from=")).unquote(), "Dockerfile COPY --from", ignored, st.stages)
			}
		}
	case "RUN":
		for _, a := range args {
			if strings.HasPrefix(a.text, "--mount=") {
				f.dockerMount(a, ignored, st.stages)
			} else if !strings.HasPrefix(a.text, "--") {
				break
			}
		}
	}
}

// dockerArg records the global ARGs of one instruction:
// ARG NAME[=default] [NAME[=default]…].
func (f *finder) dockerArg(args []dfToken, ignored string, st *dfState) {
	for _, a := range args {
		name, _, hasValue := strings.Cut(a.text, "=")
		arg := &dfArg{ignored: ignored}
		if hasValue {
			v := a.sub(len(name) + 1).unquote()
			arg.value = &v
		}
		st.args[name] = arg
	}
}

// dockerFrom handles FROM [--platform=…] image [AS name].
func (f *finder) dockerFrom(args []dfToken, ignored string, st *dfState) {
	st.fromSeen = true
	j := 0
	for j < len(args) && strings.HasPrefix(args[j].text, "--") {
		j++
	}
	if j >= len(args) {
		return
	}
	img := args[j].unquote()
	if strings.Contains(img.text, "$") {
		f.dockerFromArg(img, ignored, st)
	} else {
		f.dockerImage(img, "Dockerfile FROM", ignored, st.stages)
	}
	// A stage is known only after its FROM: `FROM x AS x` pulls image x.
	if j+2 < len(args) && strings.EqualFold(args[j+1].text, "AS") {
		st.stages[strings.ToLower(args[j+2].text)] = true
	}
}

// dockerFromArg handles `FROM $BASE` and `FROM ${BASE}`: the image is the
// default of a global ARG, pinned where the default is written. Anything
// else with a variable is left alone.
func (f *finder) dockerFromArg(img dfToken, ignored string, st *dfState) {
	line := f.lineOf(img.start)
	m := argRefRe.FindStringSubmatch(img.text)
	if m == nil {
		f.note(line, "Dockerfile FROM %q is assembled from ARGs and other text, or uses variable modifiers (tend follows only FROM $NAME and FROM ${NAME}); left alone", img.text)
		return
	}
	name := m[1] + m[2]
	arg := st.args[name]
	switch {
	case arg == nil:
		f.note(line, "Dockerfile FROM %q: ARG %s is not declared before the first FROM; left alone", img.text, name)
	case arg.value == nil:
		f.note(line, "Dockerfile FROM %q: ARG %s has no default (it is set at build time); left alone", img.text, name)
	default:
		if ignored == "" {
			ignored = arg.ignored
		}
		f.dockerImage(*arg.value, fmt.Sprintf("Dockerfile ARG %s (FROM on line %d)", name, line), ignored, st.stages)
	}
}

// dockerMount handles RUN --mount=type=bind,from=image,source=/x,target=/y.
func (f *finder) dockerMount(a dfToken, ignored string, stages map[string]bool) {
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
	case !strings.HasPrefix(source, "Dockerfile FROM") && !strings.HasPrefix(source, "Dockerfile ARG") && strings.Trim(t.text, "0123456789") == "":
		f.note(line, "%s %q names a build stage by number; left alone", source, t.text)
	case t.split:
		f.note(line, "%s %q is split by a line continuation; left alone", source, t.text)
	default:
		f.consider(t.start, t.end, source, ignored)
	}
}
