package agent

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v89/github"
	"google.golang.org/genai"

	"github.com/tend-app/tend/internal/clip"
	"github.com/tend-app/tend/internal/toolschema"
	"github.com/tend-app/tend/reconcilers/agent/worktree"
	"github.com/tend-app/tend/reconcilers/images"
)

// Names of the tools the agent loop itself answers (the worktree answers
// the file tools).
const (
	toolGetRelease   = "get_release"
	toolGetIssue     = "get_issue"
	toolResolveImage = "resolve_image"
	toolSubmit       = "submit"
	toolNoChange     = "no_change"
)

// The arguments of the tools the loop answers (see toolschema).
type (
	noParams           struct{}
	resolveImageParams struct {
		Image string `json:"image" description:"the image reference, with a tag"`
	}
	submitParams struct {
		Title   string `json:"title" description:"the pull request title: short, imperative, under 72 characters"`
		Summary string `json:"summary" description:"what changed and why, for a reviewer, in a few sentences of Markdown"`
	}
	noChangeParams struct {
		Reason string `json:"reason" description:"why nothing needs to change, in one or two sentences"`
	}
)

// contextDeclarations are the tools beyond the file tools: context about
// the trigger, image digests, and the two ways to finish.
func contextDeclarations(hasRelease, hasIssue bool) []*genai.FunctionDeclaration {
	var out []*genai.FunctionDeclaration
	if hasRelease {
		out = append(out, &genai.FunctionDeclaration{
			Name:        toolGetRelease,
			Description: "Returns the release that triggered this run: repository, tag, name, whether it is a prerelease, and its full notes.",
			Parameters:  toolschema.MustOf(noParams{}),
		})
	}
	if hasIssue {
		out = append(out, &genai.FunctionDeclaration{
			Name:        toolGetIssue,
			Description: "Returns the issue this run answers: title, body, author, state, labels, and the comments of people with write access to the repository (others' comments are left out).",
			Parameters:  toolschema.MustOf(noParams{}),
		})
	}
	out = append(out,
		&genai.FunctionDeclaration{
			Name:        toolResolveImage,
			Description: "Resolves a container image reference (e.g. \"nginx:1.27\" or \"ghcr.io/org/app:v2\") to the digest its tag points at now (\"sha256:...\"). For multi-architecture images this is the index digest.",
			Parameters:  toolschema.MustOf(resolveImageParams{}),
		},
		&genai.FunctionDeclaration{
			Name:        toolSubmit,
			Description: "Finish: propose the files you changed as a pull request. Call it once, after your last edit. tend checks the changes first; if it reports problems, fix them and submit again.",
			Parameters:  toolschema.MustOf(submitParams{}),
		},
		&genai.FunctionDeclaration{
			Name:        toolNoChange,
			Description: "Finish without changes: the files already meet the desired state, or the request cannot or should not be done.",
			Parameters:  toolschema.MustOf(noChangeParams{}),
		},
	)
	return out
}

// contextTools answers get_release, get_issue and resolve_image.
type contextTools struct {
	client   *github.Client
	owner    string
	repo     string
	release  *github.RepositoryRelease
	relRepo  string
	issue    *github.Issue
	writers  func(ctx context.Context) ([]*github.IssueComment, error)
	resolver images.Resolver
}

func (c *contextTools) call(ctx context.Context, name string, args map[string]any) map[string]any {
	switch name {
	case toolGetRelease:
		if c.release == nil {
			return errResult("this run was not triggered by a release")
		}
		r := c.release
		return map[string]any{"repository": c.relRepo, "tag": r.GetTagName(), "name": r.GetName(), "prerelease": r.GetPrerelease(),
			"published_at": r.GetPublishedAt().String(), "notes": clip.Text(r.GetBody(), 60000, truncated)}
	case toolGetIssue:
		if c.issue == nil {
			return errResult("this run does not answer an issue")
		}
		comments, err := c.writers(ctx)
		if err != nil {
			return errResult(fmt.Sprintf("could not read the comments: %v", err))
		}
		var cs []map[string]any
		for _, cm := range comments {
			cs = append(cs, map[string]any{"author": cm.GetUser().GetLogin(), "body": clip.Text(cm.GetBody(), 8000, truncated)})
		}
		var labels []string
		for _, l := range c.issue.Labels {
			labels = append(labels, l.GetName())
		}
		return map[string]any{"number": c.issue.GetNumber(), "title": c.issue.GetTitle(), "body": clip.Text(c.issue.GetBody(), 30000, truncated),
			"author": c.issue.GetUser().GetLogin(), "state": c.issue.GetState(), "labels": labels, "comments": cs}
	case toolResolveImage:
		ref, problem := stringArg(args, "image")
		ref = strings.TrimSpace(ref)
		if problem != "" || ref == "" || len(ref) > 512 {
			return errResult(strings.TrimPrefix(problem+"; ", "; ") + "give an image reference such as \"nginx:1.27\"")
		}
		d, err := c.resolver.Digest(ctx, ref)
		if err != nil {
			return errResult(fmt.Sprintf("could not resolve %s: %v", ref, err))
		}
		return map[string]any{"image": ref, "digest": d}
	}
	return errResult("unknown tool " + name)
}

// stringArg reads a string argument of a tool the loop answers; problem
// tells the model what is wrong with it (the model's arguments are
// untrusted: any JSON may arrive).
func stringArg(args map[string]any, name string) (v, problem string) {
	raw, ok := args[name]
	if !ok || raw == nil {
		return "", fmt.Sprintf("argument %q is required", name)
	}
	s, ok := raw.(string)
	if !ok {
		return "", fmt.Sprintf("argument %q must be a string, not %s", name, worktree.JSONType(raw))
	}
	return s, ""
}

// truncated marks text the agent cut to a bound.
const truncated = "\n[… truncated]"

func errResult(msg string) map[string]any { return map[string]any{"error": msg} }
