package agent

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/google/go-github/v89/github"

	"github.com/tend-app/tend/internal/clip"
	"github.com/tend-app/tend/internal/keys"
	"github.com/tend-app/tend/prompts"
	"github.com/tend-app/tend/reconcilers/agent/worktree"
	"github.com/tend-app/tend/reconcilers/changes"
)

// maxPRFiles bounds how many files of an open PR a continuing run carries
// over; a tend PR is small by construction.
const maxPRFiles = 200

// maxSourceFileBytes bounds the PR and base files a run reads outside the
// worktree's tools, as the tools bound theirs: a file pushed to the PR by
// hand can be up to GitHub's 100 MB.
func (r *Reconciler) maxSourceFileBytes() int64 {
	if r.Policy.MaxSourceFileBytes > 0 {
		return int64(r.Policy.MaxSourceFileBytes)
	}
	return worktree.DefaultMaxSourceFileBytes
}

// source is the worktree's starting point: the base tree, plus — when
// continuing an open PR — the files that PR changes, as it changes them.
func (r *Reconciler) source(ctx context.Context, rn *run) (worktree.Source, map[string]*[]byte, error) {
	client, k := rn.req.Client, rn.k
	base := worktree.GitHubSource(client, k.Owner, k.Repo, rn.base.Tree)
	if rn.pr == nil || rn.recreate {
		return base, nil, nil
	}
	head := rn.pr.GetHead().GetSHA()
	cmp, _, err := client.Repositories.CompareCommits(ctx, k.Owner, k.Repo, rn.base.Commit, head, &github.ListOptions{PerPage: 100})
	if err != nil {
		return nil, nil, fmt.Errorf("compare the PR with the base: %w", err)
	}
	files := map[string]*[]byte{}
	for i, f := range cmp.Files {
		if i >= maxPRFiles {
			break
		}
		name := f.GetFilename()
		if keys.ValidatePath(name) != nil {
			continue
		}
		if f.GetStatus() == "removed" {
			files[name] = nil
			continue
		}
		fc, err := changes.ReadFileMax(ctx, client, k.Owner, k.Repo, head, name, r.maxSourceFileBytes())
		if err != nil {
			return nil, nil, err
		}
		if fc.Exists {
			content := fc.Content
			files[name] = &content
		}
		if prev := f.GetPreviousFilename(); prev != "" && keys.ValidatePath(prev) == nil {
			files[prev] = nil
		}
	}
	return worktree.Overlay{Base: base, Files: files}, files, nil
}

// withBase turns the worktree's changes (relative to its starting point)
// into the key's change relative to the base branch: files the open PR
// changed are compared with their base content, and PR files this run did
// not touch are carried over.
func (r *Reconciler) withBase(ctx context.Context, rn *run, changed []changes.FileChange, prFiles map[string]*[]byte) []changes.FileChange {
	if len(prFiles) == 0 {
		return changed
	}
	byPath := map[string]changes.FileChange{}
	for _, f := range changed {
		byPath[f.Path] = f
	}
	for path, content := range prFiles {
		if _, ok := byPath[path]; !ok {
			f := changes.FileChange{Path: path}
			if content == nil {
				f.Delete = true
			} else {
				f.Desired = *content
			}
			byPath[path] = f
		}
	}
	out := make([]changes.FileChange, 0, len(byPath))
	for path, f := range byPath {
		if _, inPR := prFiles[path]; inPR {
			// The starting content was the PR's: read what the base has.
			bf, err := changes.ReadFileMax(ctx, rn.req.Client, rn.k.Owner, rn.k.Repo, rn.base.Commit, path, r.maxSourceFileBytes())
			if err != nil {
				rn.req.Log.Warn().Err(err).Str("path", path).Msg("reading base content")
			}
			f.Base, f.BaseExists = bf.Content, bf.Exists
		}
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// taskPrompt renders the task of a run on GitHub: the trigger's prompt,
// then the open PR it continues or people's instructions, and feedback.
func (r *Reconciler) taskPrompt(ctx context.Context, rn *run, prFiles map[string]*[]byte) (string, error) {
	req, k := rn.req, rn.k
	task := prompts.Task{Repo: k.FullName(), Rule: req.Rule.Name, Path: k.Path, Prompt: req.Rule.Prompt, Trigger: req.Trigger}
	name := "push"
	switch {
	case rn.issue != nil:
		name = "issue"
		task.Issue, task.IssueTitle, task.IssueBody, task.IssueBy = k.Issue, rn.issue.GetTitle(), rn.issue.GetBody(), rn.issue.GetUser().GetLogin()
	case rn.release != nil:
		name = "release"
		task.Release, task.ReleaseTag, task.ReleaseName, task.ReleaseNotes = rn.relRepo, rn.release.GetTagName(), rn.release.GetName(), rn.release.GetBody()
	default:
		task.PushFiles, task.PushPatch = r.pushChanges(ctx, rn)
	}
	text, err := prompts.Render(name, task)
	if err != nil {
		return "", err
	}
	task.Instructions = strings.Join(req.Steering.Instructions, "\n\n")
	if rn.pr != nil && !rn.recreate {
		for p := range prFiles {
			task.PRFiles = append(task.PRFiles, p)
		}
		sort.Strings(task.PRFiles)
		task.PR, task.PRTitle = rn.pr.GetNumber(), rn.pr.GetTitle()
		task.PRSummary = prSummary(rn.pr.GetBody())
		cont, err := prompts.Render("continue", task)
		if err != nil {
			return "", err
		}
		text += "\n" + cont
	} else if task.Instructions != "" {
		more, err := prompts.Render("instructions", task)
		if err != nil {
			return "", err
		}
		text += "\n" + more
	}
	if rn.fb.due() {
		fbText, err := rn.fb.prompt()
		if err != nil {
			return "", err
		}
		text += "\n" + fbText
	}
	return text, nil
}

// pushChanges lists what a triggering push changed (bounded) and the key
// path's patch, when the trigger names the push.
func (r *Reconciler) pushChanges(ctx context.Context, rn *run) ([]string, string) {
	span, ok := strings.CutPrefix(rn.req.Trigger, "push:")
	if !ok {
		return nil, ""
	}
	before, after, ok := strings.Cut(span, "..")
	if !ok || strings.Trim(before, "0") == "" || after == "" {
		return nil, ""
	}
	cmp, _, err := rn.req.Client.Repositories.CompareCommits(ctx, rn.k.Owner, rn.k.Repo, before, after, &github.ListOptions{PerPage: 100})
	if err != nil {
		rn.req.Log.Debug().Err(err).Msg("compare for the push prompt")
		return nil, ""
	}
	var files []string
	patch := ""
	for i, f := range cmp.Files {
		if i < 50 {
			files = append(files, f.GetFilename())
		}
		if f.GetFilename() == rn.k.Path {
			patch = clip.Text(f.GetPatch(), 4000, truncated)
		}
	}
	if len(cmp.Files) > 50 {
		files = append(files, fmt.Sprintf("… and %d more", len(cmp.Files)-50))
	}
	return files, patch
}

// prSummary is the summary part of a tend PR body (before its footer).
func prSummary(body string) string {
	if i := strings.Index(body, "\n---\n"); i >= 0 {
		body = body[:i]
	}
	return strings.TrimSpace(body)
}

// writersComments returns the issue's comments by people with write
// access (admin, maintain, write), in order; others' comments and tend's
// own are left out, so that only maintainers can refine a request.
func (r *Reconciler) writersComments(ctx context.Context, client *github.Client, k keys.Key) ([]*github.IssueComment, error) {
	var all []*github.IssueComment
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for len(all) < 300 {
		cs, resp, err := client.Issues.ListComments(ctx, k.Owner, k.Repo, k.Issue, opts)
		if err != nil {
			return nil, fmt.Errorf("list comments of #%d: %w", k.Issue, err)
		}
		all = append(all, cs...)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	w := newWriters(client, k.Owner, k.Repo)
	var out []*github.IssueComment
	for _, c := range all {
		login := c.GetUser().GetLogin()
		if c.GetUser().GetType() == "Bot" || login == "" {
			continue
		}
		ok, err := w.has(ctx, login)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, c)
		}
	}
	return out, nil
}

// answerIssue tells the issue what became of its request.
func (r *Reconciler) answerIssue(ctx context.Context, rn *run, rec *Record, out changes.Outcome) error {
	var msg string
	switch {
	case out.PR != 0 && (out.Action == "pr-opened" || out.Action == "pr-updated" || out.Action == "up-to-date"):
		msg = fmt.Sprintf("tend is answering this request in #%d.\n\nLast run: %s.", out.PR, strings.ToLower(outcomeText(rec.Ending, out.Action)))
	case rec.Ending == EndNoChange:
		msg = "tend looked at this request and changed nothing:\n\n> " + strings.ReplaceAll(clip.Text(rec.Rationale, 2000, truncated), "\n", "\n> ")
	default:
		return nil
	}
	if r.Requests != nil {
		// One comment, kept up to date, instead of one per run.
		return r.Requests.SetIssueStatus(ctx, rn.req.Client, rn.k, msg)
	}
	_, _, err := rn.req.Client.Issues.CreateComment(ctx, rn.k.Owner, rn.k.Repo, rn.k.Issue, &github.IssueComment{Body: github.Ptr(msg)})
	if err != nil {
		return fmt.Errorf("comment on issue #%d: %w", rn.k.Issue, err)
	}
	return nil
}

// trace renders a run for the check run's text: each turn's tokens and
// every tool call.
func trace(rec *Record) string {
	if rec == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "### Agent run\n\nEnded: **%s** after %d turn(s), %d tool call(s), %d tokens, %s.\n\n", rec.Ending, len(rec.Turns), len(rec.Calls), rec.Tokens, rec.Duration.Round(1e6))
	if len(rec.Calls) > 0 {
		b.WriteString("| turn | tool | path | outcome | detail |\n|---|---|---|---|---|\n")
		for i, c := range rec.Calls {
			if i == 200 {
				fmt.Fprintf(&b, "| … | %d more calls | | | |\n", len(rec.Calls)-200)
				break
			}
			fmt.Fprintf(&b, "| %d | `%s` | %s | %s | %s |\n", c.Turn, c.Name, cell(c.Path), c.Outcome, cell(c.Detail))
		}
		b.WriteString("\n")
	}
	if len(rec.Turns) > 0 {
		b.WriteString("| turn | prompt tokens | output tokens | bytes sent | calls | note |\n|---|---|---|---|---|---|\n")
		for _, t := range rec.Turns {
			fmt.Fprintf(&b, "| %d | %d | %d | %d | %d | %s |\n", t.N, t.PromptTokens, t.OutputTokens, t.BytesSent, t.Calls, cell(t.Note))
		}
	}
	return b.String()
}

func cell(s string) string {
	if s == "" {
		return ""
	}
	s = strings.NewReplacer("|", "\\|", "\n", " ", "`", "'").Replace(s)
	return "`" + s + "`"
}
