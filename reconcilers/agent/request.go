package agent

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/google/go-github/v89/github"

	"github.com/tend-app/tend/internal/keys"
)

// readRequest reads the issue of an issue key. It returns nil for a pull
// request, and a reason when the request was withdrawn — the issue was
// closed, lost the rule's label, or was deleted or transferred — so that
// the key's PR is closed.
func (r *Reconciler) readRequest(ctx context.Context, client *github.Client, k keys.Key, label string) (*github.Issue, string, error) {
	is, _, err := client.Issues.Get(ctx, k.Owner, k.Repo, k.Issue)
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		switch er.Response.StatusCode {
		case http.StatusNotFound, http.StatusGone, http.StatusMovedPermanently:
			return &github.Issue{Number: github.Ptr(k.Issue)}, fmt.Sprintf("Issue #%d was deleted or moved, so this pull request is no longer needed. Closing it.", k.Issue), nil
		}
	}
	if err != nil {
		return nil, "", fmt.Errorf("read issue #%d: %w", k.Issue, err)
	}
	if is.IsPullRequest() {
		return nil, "", nil
	}
	labelled := slices.ContainsFunc(is.Labels, func(l *github.Label) bool { return strings.EqualFold(l.GetName(), label) })
	switch {
	case is.GetState() != "open":
		return is, fmt.Sprintf("Issue #%d was closed, so this pull request is no longer needed.", k.Issue), nil
	case !labelled:
		return is, fmt.Sprintf("Issue #%d no longer carries the `%s` label, so tend no longer works on it. Closing this pull request.", k.Issue, label), nil
	}
	return is, "", nil
}
