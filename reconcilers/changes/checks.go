package changes

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/google/go-github/v89/github"

	"github.com/tend-app/tend/internal/clip"
)

// GitHub's limits on check runs.
const (
	maxOutputChars      = 65535
	maxAnnotationsBatch = 50
	maxActions          = 3
	maxTitleChars       = 255
)

// The identifiers of the buttons on tend's check runs.
const (
	ActionReconcile = "reconcile"
	ActionRecreate  = "recreate"
)

// CheckName is the name of the check run of a rule.
func CheckName(rule string) string { return "tend / " + rule }

// report posts the completed check run of a change on the PR head.
func (m *Manager) report(ctx context.Context, client *github.Client, owner, repo, head string, c *Change, diff []FileChange) error {
	conclusion := "success"
	if len(c.Warnings) > 0 {
		conclusion = "neutral"
	}
	summary := c.Summary
	if len(c.Warnings) > 0 {
		summary += "\n\n**Not everything could be reconciled:**\n"
		for _, w := range c.Warnings {
			summary += "- " + w + "\n"
		}
	}
	summary += c.feedbackLine()
	var text strings.Builder
	fmt.Fprintf(&text, "Key: `%s`  \nTrigger: %s  \nBase: `%s` at %s\n\n", c.Key, orDash(c.Trigger), c.Base.Branch, short(c.Base.Commit))
	if len(diff) > 0 {
		text.WriteString("| file | change | notes |\n|---|---|---|\n")
		for _, f := range diff {
			change := "modified"
			switch {
			case f.Delete:
				change = "deleted"
			case !f.BaseExists:
				change = "added"
			}
			fmt.Fprintf(&text, "| `%s` | %s | %s |\n", f.Path, change, escapeCell(f.Note))
		}
		text.WriteString("\n")
	}
	text.WriteString(c.Details)
	return PostCheck(ctx, client, owner, repo, Check{
		Name: CheckName(c.Rule), HeadSHA: head, ExternalID: c.Key.String(), Conclusion: conclusion,
		Title: c.Title, Summary: summary, Text: text.String(), Annotations: c.Annotations, Reconcilable: true,
	})
}

// Check is a completed check run.
type Check struct {
	Name, HeadSHA, ExternalID string
	Conclusion                string // success, neutral, failure, ...
	Title, Summary, Text      string
	Annotations               []Annotation
	// Reconcilable adds a "Reconcile now" button (requested_action).
	Reconcilable bool
}

// PostCheck creates a completed check run within GitHub's limits: output
// fields are truncated to 65,535 characters, annotations go 50 per request
// (the first batch with the creation, the rest appended with updates).
func PostCheck(ctx context.Context, client *github.Client, owner, repo string, ch Check) error {
	out := &github.CheckRunOutput{
		Title:   github.Ptr(oneLine(ch.Title, maxTitleChars)),
		Summary: github.Ptr(clip.Text(ch.Summary, maxOutputChars, truncatedNote)),
	}
	if ch.Text != "" {
		out.Text = github.Ptr(clip.Text(ch.Text, maxOutputChars, truncatedNote))
	}
	anns := toAnnotations(ch.Annotations)
	first := anns
	if len(first) > maxAnnotationsBatch {
		first = first[:maxAnnotationsBatch]
	}
	out.Annotations = first
	opts := github.CreateCheckRunOptions{
		Name:       ch.Name,
		HeadSHA:    ch.HeadSHA,
		ExternalID: github.Ptr(ch.ExternalID),
		Status:     github.Ptr("completed"),
		Conclusion: github.Ptr(ch.Conclusion),
		Output:     out,
	}
	if ch.Reconcilable {
		opts.Actions = []*github.CheckRunAction{
			{Label: "Reconcile now", Description: "Run tend for this key again", Identifier: ActionReconcile},
			{Label: "Recreate", Description: "Regenerate from the base branch", Identifier: ActionRecreate},
		}
	}
	run, _, err := client.Checks.CreateCheckRun(ctx, owner, repo, opts)
	if err != nil {
		return fmt.Errorf("create check run %q: %w", ch.Name, err)
	}
	for rest := anns[len(first):]; len(rest) > 0; {
		batch := rest[:min(len(rest), maxAnnotationsBatch)]
		rest = rest[len(batch):]
		if _, _, err := client.Checks.UpdateCheckRun(ctx, owner, repo, run.GetID(), github.UpdateCheckRunOptions{
			Name:   ch.Name,
			Output: &github.CheckRunOutput{Title: out.Title, Summary: out.Summary, Annotations: batch},
		}); err != nil {
			return fmt.Errorf("append annotations to check run %q: %w", ch.Name, err)
		}
	}
	return nil
}

func toAnnotations(in []Annotation) []*github.CheckRunAnnotation {
	out := make([]*github.CheckRunAnnotation, 0, len(in))
	for _, a := range in {
		if a.Path == "" || a.StartLine <= 0 {
			continue
		}
		end := a.EndLine
		if end < a.StartLine {
			end = a.StartLine
		}
		level := a.Level
		if level != "notice" && level != "warning" && level != "failure" {
			level = "warning"
		}
		ann := &github.CheckRunAnnotation{
			Path: github.Ptr(a.Path), StartLine: github.Ptr(a.StartLine), EndLine: github.Ptr(end),
			AnnotationLevel: github.Ptr(level), Message: github.Ptr(clip.Text(a.Message, 64<<10-1, truncatedNote)),
		}
		if a.Title != "" {
			ann.Title = github.Ptr(clip.Text(a.Title, maxTitleChars, truncatedNote))
		}
		if end == a.StartLine && a.StartColumn > 0 {
			ann.StartColumn, ann.EndColumn = github.Ptr(a.StartColumn), github.Ptr(max(a.EndColumn, a.StartColumn))
		}
		out = append(out, ann)
	}
	return out
}

// truncatedNote ends text cut to GitHub's limits.
const truncatedNote = "\n\n… (truncated)"

func escapeCell(s string) string {
	s = strings.ReplaceAll(s, "|", "\\|")
	return strings.ReplaceAll(s, "\n", " ")
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func encodeBase64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
