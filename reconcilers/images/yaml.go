package images

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// span is a half-open byte range.
type span struct{ start, end int }

func (s span) has(off int) bool { return s.start <= off && off < s.end }

// yamlFile holds what the YAML walkers need besides the parse tree: where
// yaml.v3's lines start (its line breaks are not only "\n") and which byte
// ranges ignore comments cover.
type yamlFile struct {
	*finder
	// ylines are the byte offsets of the lines as yaml.v3 counts them.
	ylines []int
	// wide marks the lines holding multi-byte characters; runes caches
	// their rune start offsets.
	wide  []bool
	runes map[int][]int
	// ignoredDocs are the documents carrying an unindented # tend:ignore.
	ignoredDocs []span
	// targets are the lines that follow an indented # tend:ignore; a node
	// starting on one is ignored with everything in it.
	targets []span
}

// parseYAML decodes every document of a stream. yaml.v3 has panicked on
// hostile input in the past; a panic becomes an error here.
func parseYAML(content []byte) (docs []*yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			docs, err = nil, fmt.Errorf("YAML parser failed: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(content))
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				return docs, nil
			}
			return nil, err
		}
		docs = append(docs, &doc)
	}
}

func (f *finder) yaml(fm format) {
	if !utf8.Valid(f.content) {
		f.note(0, "file is not valid UTF-8; not searched")
		return
	}
	docs, err := parseYAML(f.content)
	if err != nil {
		f.note(0, "file is not valid YAML (%v); not searched", err)
		return
	}
	y := &yamlFile{finder: f}
	y.index()
	if fm == formatYAML {
		fm = sniff(docs)
	}
	for _, doc := range docs {
		if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
			continue
		}
		root := doc.Content[0]
		ign := y.ignoredAt(root, "")
		switch fm {
		case formatWorkflow:
			y.workflow(root, ign)
		case formatAction:
			y.action(root, ign)
		case formatCompose:
			y.compose(root, ign)
		case formatKustomize:
			y.kustomize(root, ign)
			y.anyImage(root, "kustomize ", "", ign)
		default:
			y.anyImage(root, objectLabel(root), "", ign)
		}
	}
}

// sniff tells the kind of a YAML file from its first document's top-level
// keys.
func sniff(docs []*yaml.Node) format {
	for _, doc := range docs {
		if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
			continue
		}
		root := doc.Content[0]
		if root.Kind != yaml.MappingNode {
			return formatKubernetes
		}
		has := func(key string) bool { _, v := mapGet(root, key); return v != nil }
		_, runs := mapGet(root, "runs")
		switch {
		case has("jobs") && has("on"):
			return formatWorkflow
		case runs != nil && runs.Kind == yaml.MappingNode && func() bool { _, u := mapGet(runs, "using"); return u != nil }():
			return formatAction
		case has("services") && !has("apiVersion") && !has("kind"):
			return formatCompose
		}
		return formatKubernetes
	}
	return formatKubernetes
}

// index computes yaml.v3's line starts and the ranges covered by ignore
// comments.
func (y *yamlFile) index() {
	y.indexLines()
	y.indexIgnores()
}

// indexLines computes the line starts as yaml.v3 counts lines, and which
// lines hold multi-byte characters.
func (y *yamlFile) indexLines() {
	c := y.content
	// yaml.v3 counts CRLF, CR, LF, NEL, LS and PS as line breaks, and its
	// columns start after a UTF-8 byte order mark.
	start := 0
	if bytes.HasPrefix(c, []byte("\xef\xbb\xbf")) {
		start = 3
	}
	y.ylines = []int{start}
	for i := start; i < len(c); {
		n := yamlBreak(c[i:])
		if n == 0 {
			i++
			continue
		}
		i += n
		y.ylines = append(y.ylines, i)
	}
	y.wide = make([]bool, len(y.ylines))
	y.runes = map[int][]int{}
	for n, s := range y.ylines {
		e := len(c)
		if n+1 < len(y.ylines) {
			e = y.ylines[n+1]
		}
		for _, b := range c[s:e] {
			if b >= utf8.RuneSelf {
				y.wide[n] = true
				break
			}
		}
	}
}

// yamlBreak returns the length of the line break that c starts with (CRLF,
// CR, LF, NEL, LS or PS), or 0.
func yamlBreak(c []byte) int {
	switch {
	case len(c) >= 2 && c[0] == '\r' && c[1] == '\n':
		return 2
	case len(c) >= 1 && (c[0] == '\r' || c[0] == '\n'):
		return 1
	case len(c) >= 2 && c[0] == 0xC2 && c[1] == 0x85:
		return 2
	case len(c) >= 3 && c[0] == 0xE2 && c[1] == 0x80 && (c[2] == 0xA8 || c[2] == 0xA9):
		return 3
	}
	return 0
}

// indexIgnores finds the documents and lines that `# tend:ignore` comments
// exempt.
func (y *yamlFile) indexIgnores() {
	c := y.content
	// Documents, textually: a "---" line starts a new document unless the
	// current one has no content yet (comments above the first "---" belong
	// to the document it starts); a "..." line ends the current one.
	docStart, docHasContent := 0, false
	docIgnored := false
	closeDoc := func(end int) {
		if docIgnored {
			y.ignoredDocs = append(y.ignoredDocs, span{docStart, end})
		}
		docStart, docHasContent, docIgnored = end, false, false
	}
	for i := range y.lines {
		s, e := y.lineBounds(i)
		line := c[s:e]
		trimmed := bytes.TrimLeft(line, " \t")
		switch {
		case isDocMarker(line, "---"):
			if docHasContent {
				closeDoc(s)
			}
			// "--- value" starts a document with content on the marker line.
			if len(bytes.TrimSpace(line[3:])) > 0 && bytes.TrimSpace(line[3:])[0] != '#' {
				docHasContent = true
			}
		case isDocMarker(line, "..."):
			next := len(c)
			if i+1 < len(y.lines) {
				next = y.lines[i+1]
			}
			closeDoc(next)
		case len(trimmed) == 0:
		case trimmed[0] == '#':
			if !marked(ownIgnoreRe, line) {
				break
			}
			if len(trimmed) == len(line) {
				docIgnored = true
				break
			}
			if t, ok := y.nextContentLine(i + 1); ok {
				y.targets = append(y.targets, t)
			}
		default:
			docHasContent = true
		}
	}
	closeDoc(len(c))
}

// nextContentLine returns the first line from i on that is neither blank
// nor a comment, unless a document marker comes first.
func (y *yamlFile) nextContentLine(i int) (span, bool) {
	for ; i < len(y.lines); i++ {
		s, e := y.lineBounds(i)
		line := y.content[s:e]
		if isDocMarker(line, "---") || isDocMarker(line, "...") {
			return span{}, false
		}
		trimmed := bytes.TrimLeft(line, " \t")
		if len(trimmed) == 0 || trimmed[0] == '#' {
			continue
		}
		return span{s, e}, true
	}
	return span{}, false
}

func isDocMarker(line []byte, marker string) bool {
	return bytes.HasPrefix(line, []byte(marker)) && (len(line) == 3 || isBlank(line[3]))
}

// offset maps yaml.v3's 1-based line and rune column to a byte offset, or
// returns -1. Columns count runes, so lines with multi-byte characters get a
// rune index (built once, so that a huge one-line flow document costs linear
// time, not quadratic).
func (y *yamlFile) offset(line, col int) int {
	if line < 1 || line > len(y.ylines) || col < 1 {
		return -1
	}
	start, end := y.ylines[line-1], len(y.content)
	if line < len(y.ylines) {
		end = y.ylines[line]
	}
	if !y.wide[line-1] {
		if off := start + col - 1; off <= end {
			return off
		}
		return -1
	}
	idx, ok := y.runes[line-1]
	if !ok {
		for i := start; i < end; {
			idx = append(idx, i)
			_, size := utf8.DecodeRune(y.content[i:end])
			i += size
		}
		idx = append(idx, end)
		y.runes[line-1] = idx
	}
	if col-1 < len(idx) {
		return idx[col-1]
	}
	return -1
}

// ignoredAt says why node n is ignored, if it is: because its document is,
// or because it starts on the line after an indented # tend:ignore. inherited
// is the reason that applies to n's parent.
func (y *yamlFile) ignoredAt(n *yaml.Node, inherited string) string {
	if inherited != "" || n == nil || len(y.ignoredDocs)+len(y.targets) == 0 {
		return inherited
	}
	off := y.offset(n.Line, n.Column)
	if off < 0 {
		return ""
	}
	for _, d := range y.ignoredDocs {
		if d.has(off) {
			return "# tend:ignore on the document"
		}
	}
	for _, t := range y.targets {
		if t.start <= off && off <= t.end {
			return "# tend:ignore above"
		}
	}
	return ""
}

// pairIgnored is ignoredAt for a mapping pair: the pair is what starts on
// the key's line. A block collection value starts on the line of its first
// entry, so it is not checked itself: a comment above the first item of a
// list is about that item, not about the whole list.
func (y *yamlFile) pairIgnored(k, v *yaml.Node, inherited string) string {
	ign := y.ignoredAt(k, inherited)
	if d := deref(v); d != nil && d.Kind == yaml.ScalarNode {
		ign = y.ignoredAt(v, ign)
	}
	return ign
}

// deref follows an alias to its anchor.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 8; i++ {
		n = n.Alias
	}
	return n
}

// mapGet returns the key and value nodes for key in mapping m, looking into
// `<<` merges (an alias or a list of aliases) when m has no such key itself.
// Each mapping is looked at once: merges of merges of lists of aliases could
// otherwise make a small hostile file exponentially expensive.
func mapGet(m *yaml.Node, key string) (k, v *yaml.Node) {
	return mapGetSeen(m, key, map[*yaml.Node]bool{})
}

func mapGetSeen(m *yaml.Node, key string, seen map[*yaml.Node]bool) (k, v *yaml.Node) {
	m = deref(m)
	if m == nil || m.Kind != yaml.MappingNode || seen[m] {
		return nil, nil
	}
	seen[m] = true
	var merges []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		kn := m.Content[i]
		if kn.Kind != yaml.ScalarNode {
			continue
		}
		if kn.Value == key && kn.Tag != "!!merge" {
			return kn, m.Content[i+1]
		}
		if kn.Tag == "!!merge" {
			merges = append(merges, m.Content[i+1])
		}
	}
	for _, mv := range merges {
		mv = deref(mv)
		if mv == nil {
			continue
		}
		list := []*yaml.Node{mv}
		if mv.Kind == yaml.SequenceNode {
			list = mv.Content
		}
		for _, src := range list {
			if k, v := mapGetSeen(src, key, seen); v != nil {
				return k, v
			}
		}
	}
	return nil, nil
}

// pairs calls fn for each key/value pair of a mapping whose key is a scalar.
func pairs(m *yaml.Node, fn func(k, v *yaml.Node)) {
	m = deref(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Kind == yaml.ScalarNode && m.Content[i].Tag != "!!merge" {
			fn(m.Content[i], m.Content[i+1])
		}
	}
}

// scalar considers the string scalar v as a reference, after prefix (which
// must be there, or v is not an image at all).
func (y *yamlFile) scalar(v *yaml.Node, prefix, source, ignored string) {
	v = deref(v)
	if v == nil || v.Kind != yaml.ScalarNode || v.Tag != "!!str" {
		return // null, numbers, mappings…: not a reference
	}
	if !strings.HasPrefix(v.Value, prefix) {
		return
	}
	line := 0
	if off := y.offset(v.Line, v.Column); off >= 0 {
		line = y.lineOf(off)
	}
	if v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		y.note(line, "%s is a block scalar; left alone", source)
		return
	}
	start, ok := y.locate(v)
	if !ok {
		y.note(line, "%s %q is not written literally in the file (escapes or line breaks); left alone", source, v.Value)
		return
	}
	start += len(prefix)
	y.consider(start, start+len(v.Value)-len(prefix), source, ignored)
}

// locate finds the byte offset of a scalar's value in the file and checks
// that the bytes there are exactly the value, so that splicing can never
// touch anything else.
func (y *yamlFile) locate(v *yaml.Node) (int, bool) {
	c := y.content
	off := y.offset(v.Line, v.Column)
	if off < 0 {
		return 0, false
	}
	// yaml.v3 places a node with an anchor or a tag at the anchor or tag.
	for off < len(c) && (c[off] == '&' || c[off] == '!') {
		for off < len(c) && !isBlank(c[off]) && c[off] != '\n' && c[off] != '\r' {
			off++
		}
		for off < len(c) && isBlank(c[off]) {
			off++
		}
	}
	if off >= len(c) {
		return 0, false
	}
	quote := byte(0)
	if c[off] == '"' || c[off] == '\'' {
		quote = c[off]
		off++
	}
	end := off + len(v.Value)
	if end > len(c) || string(c[off:end]) != v.Value {
		return 0, false
	}
	if quote != 0 && (end >= len(c) || c[end] != quote) {
		return 0, false
	}
	return off, true
}

// anyImage finds every image at any depth: the shape of Kubernetes
// objects, CRDs and Helm values varies too much to enumerate the places
// images live. An image is an `image:` key with a string value, a Helm-style
// map under `image:` or a key ending in "image" (see helmImage), an
// `image:` string beside a `tag:` key (one reference over two keys), or a
// Kubernetes image volume (`image: {reference: …}`).
//
// label starts each Source; path is n's place in the document.
func (y *yamlFile) anyImage(n *yaml.Node, label, path, ignored string) {
	switch n.Kind {
	case yaml.MappingNode:
		pairs(n, func(k, v *yaml.Node) {
			ign := y.pairIgnored(k, v, ignored)
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			if !y.imageValue(n, k, v, label+p, ign) {
				y.anyImage(v, label, p, ign)
			}
		})
	case yaml.SequenceNode:
		for i, item := range n.Content {
			y.anyImage(item, label, path+"["+strconv.Itoa(i)+"]", y.ignoredAt(item, ignored))
		}
	}
	// Aliases are not followed: the anchored node is searched where it is
	// written, and following them could loop.
}

// imageValue considers the pair k: v of mapping m when it holds an image,
// and reports whether it did.
func (y *yamlFile) imageValue(m, k, v *yaml.Node, source, ignored string) bool {
	d := deref(v)
	if d == nil || !isImageKey(k.Value) {
		return false
	}
	switch {
	case k.Value == "image" && d.Kind == yaml.ScalarNode:
		if tk, _ := mapGet(m, "tag"); tk != nil && d.Tag == "!!str" {
			y.imageBesideTag(m, v, source, ignored)
		} else {
			y.scalar(v, "", source, ignored)
		}
		return true
	case d.Kind != yaml.MappingNode:
		return false
	case y.helmImage(d, source, ignored):
		return true
	case k.Value == "image":
		rk, ref := mapGet(d, "reference")
		if ref == nil {
			// Searched further (it may nest images), but said, so that
			// "why was this not pinned?" has an answer.
			y.note(y.nodeLine(d), "%s is a mapping without repository or reference; not an image shape tend knows, left alone", source)
			return false
		}
		y.scalar(ref, "", source+".reference", y.pairIgnored(rk, ref, ignored))
		return true
	}
	return false
}

// objectLabel names a Kubernetes object ("Kubernetes Deployment/web "), so
// that a reference in a multi-document file says which object it is in.
func objectLabel(root *yaml.Node) string {
	_, kind := mapGet(root, "kind")
	_, api := mapGet(root, "apiVersion")
	if kind == nil || api == nil || kind.Kind != yaml.ScalarNode || kind.Value == "" {
		return "YAML "
	}
	label := "Kubernetes " + kind.Value
	if _, md := mapGet(root, "metadata"); md != nil {
		if _, nm := mapGet(md, "name"); nm != nil && nm.Kind == yaml.ScalarNode && nm.Value != "" {
			label += "/" + nm.Value
		}
	}
	return label + " "
}

// composeTopLevel are the top-level keys of a Compose file that are not
// services, in version 1 files where services sit at the top level.
var composeTopLevel = map[string]bool{
	"version": true, "services": true, "networks": true, "volumes": true,
	"secrets": true, "configs": true, "name": true, "include": true, "models": true,
}

// compose finds services.*.image, or, in a version-1 file without a
// services key, the image of each top-level service.
func (y *yamlFile) compose(root *yaml.Node, ignored string) {
	k, services := mapGet(root, "services")
	if services == nil {
		k, services = nil, root
	}
	ignored = y.pairIgnored(k, services, ignored)
	pairs(services, func(name, svc *yaml.Node) {
		if k == nil && (composeTopLevel[name.Value] || strings.HasPrefix(name.Value, "x-")) {
			return
		}
		ign := y.pairIgnored(name, svc, ignored)
		source := "Compose service " + name.Value
		ik, img := mapGet(svc, "image")
		if img == nil {
			return
		}
		if _, build := mapGet(svc, "build"); build != nil {
			if d := deref(img); d != nil && d.Kind == yaml.ScalarNode {
				y.note(y.nodeLine(d), "%s has a build section, so its image %q names the image it builds; left alone", source, d.Value)
			}
			return
		}
		y.scalar(img, "", source, y.pairIgnored(ik, img, ign))
	})
}

// workflow finds job containers, service containers and docker:// steps.
func (y *yamlFile) workflow(root *yaml.Node, ignored string) {
	k, jobs := mapGet(root, "jobs")
	ignored = y.pairIgnored(k, jobs, ignored)
	pairs(jobs, func(name, job *yaml.Node) {
		ign := y.pairIgnored(name, job, ignored)
		prefix := "Actions job " + name.Value + " "
		if ck, c := mapGet(job, "container"); c != nil {
			cign := y.pairIgnored(ck, c, ign)
			if d := deref(c); d != nil && d.Kind == yaml.ScalarNode {
				y.scalar(c, "", prefix+"container", cign)
			} else {
				ik, img := mapGet(c, "image")
				y.scalar(img, "", prefix+"container", y.pairIgnored(ik, img, cign))
			}
		}
		sk, services := mapGet(job, "services")
		sign := y.pairIgnored(sk, services, ign)
		pairs(services, func(sname, svc *yaml.Node) {
			ign := y.pairIgnored(sname, svc, sign)
			if d := deref(svc); d != nil && d.Kind == yaml.ScalarNode {
				// services: {redis: "redis:7"}
				y.scalar(svc, "", prefix+"service "+sname.Value, ign)
				return
			}
			ik, img := mapGet(svc, "image")
			y.scalar(img, "", prefix+"service "+sname.Value, y.pairIgnored(ik, img, ign))
		})
		y.steps(job, prefix+"step", ign)
	})
}

// action finds runs.image and runs.steps[*].uses in action metadata.
func (y *yamlFile) action(root *yaml.Node, ignored string) {
	k, runs := mapGet(root, "runs")
	ign := y.pairIgnored(k, runs, ignored)
	ik, img := mapGet(runs, "image")
	y.scalar(img, "docker://", "Action runs.image", y.pairIgnored(ik, img, ign))
	y.steps(runs, "Action step", ign)
}

// listAt returns the items of the list under key in mapping m (none when
// it is not a list) and the ignore reason that applies to them.
func (y *yamlFile) listAt(m *yaml.Node, key, ignored string) ([]*yaml.Node, string) {
	k, list := mapGet(m, key)
	ignored = y.pairIgnored(k, list, ignored)
	if list = deref(list); list == nil || list.Kind != yaml.SequenceNode {
		return nil, ignored
	}
	return list.Content, ignored
}

// steps finds `uses: docker://image` in a steps list.
func (y *yamlFile) steps(parent *yaml.Node, source, ignored string) {
	steps, ignored := y.listAt(parent, "steps", ignored)
	for i, step := range steps {
		ign := y.ignoredAt(step, ignored)
		uk, uses := mapGet(step, "uses")
		y.scalar(uses, "docker://", fmt.Sprintf("%s %d uses", source, i+1), y.pairIgnored(uk, uses, ign))
	}
}

// nodeLine returns the editor line of a node, or 0.
func (y *yamlFile) nodeLine(n *yaml.Node) int {
	n = deref(n)
	if n == nil {
		return 0
	}
	if off := y.offset(n.Line, n.Column); off >= 0 {
		return y.lineOf(off)
	}
	return 0
}
