package images

import (
	"fmt"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/tend-app/tend/internal/imagename"
)

// Policy is what a rule says about its images.
type Policy struct {
	// Update is how far tags move: UpdateDigest (also when empty),
	// UpdatePatch, UpdateMinor or UpdateMajor.
	Update string
	// Ignore lists image names or doublestar globs; a reference whose name
	// matches one, as written or in canonical form, is never touched.
	Ignore []string
}

// filter splits off the references the policy ignores, as notes.
func (p Policy) filter(refs []Ref) (kept []Ref, notes []Note) {
	if len(p.Ignore) == 0 {
		return refs, nil
	}
	for _, r := range refs {
		if pattern := p.ignores(r.Name); pattern != "" {
			notes = append(notes, Note{Line: r.Line, Text: fmt.Sprintf("%s %q: ignored (the rule's ignore list has %q)", r.Source, r.Text, pattern)})
			continue
		}
		kept = append(kept, r)
	}
	return kept, notes
}

// ignores returns the first ignore pattern matching the image name, or "".
// A name is matched as written, canonically
// ("index.docker.io/library/nginx") and, on Docker Hub, in its shorter forms
// ("docker.io/library/nginx", "library/nginx", "nginx"), so that people can
// write any of them.
func (p Policy) ignores(name string) string {
	forms := []string{name}
	if c := imagename.Canonical(name); c != "" {
		forms = append(forms, c)
		if rest, ok := strings.CutPrefix(c, "index.docker.io/"); ok {
			forms = append(forms, "docker.io/"+rest, rest)
			if short, ok := strings.CutPrefix(rest, "library/"); ok {
				forms = append(forms, short)
			}
		}
	}
	for _, pattern := range p.Ignore {
		for _, f := range forms {
			if ok, err := doublestar.Match(pattern, f); err == nil && ok {
				return pattern
			}
		}
	}
	return ""
}
