package changes

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v89/github"

	"github.com/tend-app/tend/internal/config"
)

// ConfigCheckName is the check run that reports on .github/tend.yaml.
const ConfigCheckName = "tend / config"

// ReportConfig reports a repository's config as a check run on the
// default-branch commit that last changed it: failing, with an annotation
// per problem, when it is invalid; passing when it is valid. A config read
// from another repository (the owner's .github, a remote reference) is
// reported on the head of this repository's default branch.
func (m *Manager) ReportConfig(ctx context.Context, client *github.Client, repo *github.Repository, loaded *config.Loaded) error {
	owner, name := repo.GetOwner().GetLogin(), repo.GetName()
	if owner == "" || name == "" {
		owner, name, _ = strings.Cut(repo.GetFullName(), "/")
	}
	branch := repo.GetDefaultBranch()
	local := strings.HasPrefix(strings.ToLower(loaded.Source), strings.ToLower(owner+"/"+name+"@")) || loaded.Source == ""
	var sha string
	if local && loaded.Path != "" {
		commits, _, err := client.Repositories.ListCommits(ctx, owner, name, &github.CommitsListOptions{SHA: branch, Path: loaded.Path, ListOptions: github.ListOptions{PerPage: 1}})
		if err != nil {
			return fmt.Errorf("find the commit that changed %s: %w", loaded.Path, err)
		}
		if len(commits) > 0 {
			sha = commits[0].GetSHA()
		}
	}
	if sha == "" {
		b, err := ReadBase(ctx, client, owner, name, branch)
		if err != nil {
			return err
		}
		sha = b.Commit
	}
	ch := Check{Name: ConfigCheckName, HeadSHA: sha, ExternalID: strings.ToLower(owner + "/" + name)}
	where := fmt.Sprintf("`%s`", loaded.Path)
	if !local {
		where = fmt.Sprintf("`%s` in %s", loaded.Path, loaded.Source)
	}
	if len(loaded.Invalid) == 0 {
		ch.Conclusion = "success"
		ch.Title = fmt.Sprintf("%s is valid (%d rules)", loaded.Path, len(loaded.Config.Rules))
		ch.Summary = fmt.Sprintf("tend read %s and manages this repository with %d rule(s).", where, len(loaded.Config.Rules))
		return PostCheck(ctx, client, owner, name, ch)
	}
	ch.Conclusion = "failure"
	ch.Title = fmt.Sprintf("%s is invalid (%d problem(s))", loaded.Path, len(loaded.Invalid))
	ch.Summary = fmt.Sprintf("tend cannot use %s, so it does nothing for this repository until the file is fixed.\n\n"+
		"Check it locally with `go run ./server validate %s` from tend's repository.", where, loaded.Path)
	var text strings.Builder
	for _, e := range loaded.Invalid {
		text.WriteString("- " + e.Error() + "\n")
		if local && e.Line > 0 {
			ch.Annotations = append(ch.Annotations, configAnnotation(loaded.Path, e))
		}
	}
	ch.Text = text.String()
	return PostCheck(ctx, client, owner, name, ch)
}
