package changes

import (
	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/clip"

	"embed"
	"strings"
	"text/template"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

var bodyTemplate = template.Must(template.ParseFS(templateFS, "templates/body.md.tmpl"))

// maxBodyChars is GitHub's limit on PR bodies.
const maxBodyChars = 65536

// renderBody renders a PR body with the state block at its end. The summary
// is cut, never the state block, if the body would exceed GitHub's limit.
func renderBody(c *Change, st botpr.State) string {
	data := struct {
		Summary, Rule, Trigger, Key, State string
		Fixes                              int
	}{strings.TrimSpace(c.Summary), c.Rule, c.Trigger, c.Key.String(), botpr.FormatState(st), c.Fixes}
	var b strings.Builder
	if err := bodyTemplate.Execute(&b, data); err != nil {
		// The template is fixed and its data are strings: this cannot
		// happen, but a PR without a body is better than none.
		return botpr.FormatState(st)
	}
	out := b.String()
	// Cut in bytes: a body that fits in maxBodyChars bytes fits in as many
	// characters.
	if n := len(out); n > maxBodyChars {
		data.Summary = clip.Text(data.Summary, len(data.Summary)-(n-maxBodyChars)-100, truncatedNote)
		b.Reset()
		_ = bodyTemplate.Execute(&b, data)
		out = b.String()
	}
	return out
}
