package changes

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v89/github"

	"github.com/tend-app/tend/internal/config"
)

// ConfigPRReport is the outcome of checking the config a pull request
// proposes.
type ConfigPRReport struct {
	PR      int
	HeadSHA string
	Path    string
	// Removed: the pull request deletes the config.
	Removed bool
	// Config is the parsed file, nil when invalid (see Invalid).
	Config  *config.Config
	Invalid config.Errors
	// Matches counts the files each rule matches at the head commit.
	Matches map[string]int
}

// ReportConfigPR posts "tend / config" on a pull request's head commit:
// success with the rules and how many files each matches, or failure with
// an annotation at the line and column of each problem, before the file
// reaches the default branch.
func (m *Manager) ReportConfigPR(ctx context.Context, client *github.Client, owner, repo string, r ConfigPRReport) error {
	ch := Check{Name: ConfigCheckName, HeadSHA: r.HeadSHA, ExternalID: fmt.Sprintf("%s/%s#%d", strings.ToLower(owner), strings.ToLower(repo), r.PR)}
	switch {
	case r.Removed:
		ch.Conclusion = "neutral"
		ch.Title = fmt.Sprintf("%s is removed", r.Path)
		ch.Summary = "Once this pull request merges, tend stops managing this repository."
	case len(r.Invalid) > 0:
		ch.Conclusion = "failure"
		ch.Title = fmt.Sprintf("%s is invalid (%d problem(s))", r.Path, len(r.Invalid))
		ch.Summary = fmt.Sprintf("If this pull request merges, tend cannot use `%s` and does nothing for this repository until it is fixed. "+
			"Check it locally with `tend validate %s`.", r.Path, r.Path)
		var text strings.Builder
		for _, e := range r.Invalid {
			text.WriteString("- " + e.Error() + "\n")
			if e.Line > 0 {
				ch.Annotations = append(ch.Annotations, configAnnotation(r.Path, e))
			}
		}
		ch.Text = text.String()
	default:
		ch.Conclusion = "success"
		ch.Title = fmt.Sprintf("%s is valid (%d rules)", r.Path, len(r.Config.Rules))
		ch.Summary = configSummary(r)
	}
	return PostCheck(ctx, client, owner, repo, ch)
}

// configSummary lists the rules and how many files each matches.
func configSummary(r ConfigPRReport) string {
	var b strings.Builder
	fmt.Fprintf(&b, "With this pull request, tend reads `%s` and manages this repository with %d rule(s):\n\n", r.Path, len(r.Config.Rules))
	b.WriteString("| rule | reconciler | paths | files matched |\n|---|---|---|---|\n")
	for _, rule := range r.Config.Rules {
		fmt.Fprintf(&b, "| `%s` | %s | `%s` | %d |\n", rule.Name, rule.Reconciler, strings.Join(rule.Paths, "`, `"), r.Matches[rule.Name])
	}
	return b.String()
}

// configAnnotation places a config problem at its line and column.
func configAnnotation(path string, e config.Error) Annotation {
	return Annotation{Path: path, StartLine: e.Line, StartColumn: e.Column, EndColumn: e.Column, Level: "failure", Title: "invalid config", Message: e.Msg}
}
