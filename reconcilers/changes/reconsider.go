package changes

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-github/v89/github"
)

// reconsiderAsked returns the first comment, made on a declined PR since it
// closed and newer than the last command handled, in which a person with write access asks for its change anyway
// with `/reconcile` (nil when there is none). It is the closed-PR path of
// tend's comment commands, read level-triggered from the PR like the rest
// of a run's input; comments from people without write access are ignored.
func (m *Manager) reconsiderAsked(ctx context.Context, client *github.Client, owner, repo string, pr *github.PullRequest, handled int64, comments []*github.IssueComment) (*github.IssueComment, error) {
	closed := pr.GetClosedAt()
	checked := map[string]bool{}
	for _, c := range comments {
		login := c.GetUser().GetLogin()
		if c.GetID() <= handled || login == "" || m.Identity.IsBot(login, c.GetUser().GetType()) || !asksToReconcile(c.GetBody()) {
			continue
		}
		if !closed.IsZero() && c.GetCreatedAt().Before(closed.Time) {
			continue // said while the PR was open: not about the decline
		}
		if done, ok := checked[login]; ok && !done {
			continue
		}
		ok, err := canWrite(ctx, client, owner, repo, login)
		if err != nil {
			return nil, err
		}
		checked[login] = ok
		if ok {
			return c, nil
		}
	}
	return nil, nil
}

// asksToReconcile reports whether a comment is a /reconcile command that
// asks for a run: `/reconcile`, `/reconcile recreate` or `/reconcile
// <instructions>`, but not `/reconcile skip` or `/reconcile help`.
func asksToReconcile(body string) bool {
	body = strings.TrimLeftFunc(body, unicode.IsSpace)
	rest, ok := strings.CutPrefix(body, "/reconcile")
	if !ok {
		return false
	}
	if rest != "" {
		if r, _ := utf8.DecodeRuneInString(rest); !unicode.IsSpace(r) {
			return false
		}
	}
	word, _, _ := strings.Cut(strings.TrimSpace(rest), "\n")
	switch strings.ToLower(strings.TrimSpace(word)) {
	case "skip", "help", "-h", "--help", "?":
		return false
	}
	return true
}

// canWrite reports whether login has write, maintain or admin permission
// on the repository (author_association alone cannot tell a read-only
// collaborator from a writer).
func canWrite(ctx context.Context, client *github.Client, owner, repo, login string) (bool, error) {
	perm, _, err := client.Repositories.GetPermissionLevel(ctx, owner, repo, login)
	if err != nil {
		return false, fmt.Errorf("read the permission of %s: %w", login, err)
	}
	switch perm.GetPermission() {
	case "admin", "maintain", "write":
		return true, nil
	}
	return false, nil
}
