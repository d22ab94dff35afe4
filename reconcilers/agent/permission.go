package agent

import (
	"context"
	"fmt"
	"net/http"

	"github.com/google/go-github/v89/github"
)

// writers answers, once per login and run, whether a user has write
// access to the repository: GET .../collaborators/{user}/permission, whose
// permission is admin, write (maintain reads as write) or none/read, and
// whose role_name names the role (custom roles included).
type writers struct {
	client      *github.Client
	owner, repo string
	seen        map[string]bool
}

func newWriters(client *github.Client, owner, repo string) *writers {
	return &writers{client: client, owner: owner, repo: repo, seen: map[string]bool{}}
}

func (w *writers) has(ctx context.Context, login string) (bool, error) {
	if ok, known := w.seen[login]; known {
		return ok, nil
	}
	perm, resp, err := w.client.Repositories.GetPermissionLevel(ctx, w.owner, w.repo, login)
	if err != nil && resp != nil && resp.StatusCode == http.StatusNotFound {
		// A user GitHub does not know (renamed, deleted) has no access.
		w.seen[login] = false
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read the permission of %s: %w", login, err)
	}
	ok := false
	switch perm.GetPermission() {
	case "admin", "write":
		ok = true
	}
	switch perm.GetRoleName() {
	case "admin", "maintain", "write":
		ok = true
	}
	w.seen[login] = ok
	return ok, nil
}
