package fakegithub

import (
	"fmt"
	"strings"
)

// MoveRepo renames a repository, or transfers it when the owner changes
// (it stays on its installation), and fires the "repository" renamed or
// transferred webhook as GitHub does. The old name stops resolving.
func (s *Server) MoveRepo(fullName, newFullName, sender string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.repos[strings.ToLower(fullName)]
	newOwner, newName, ok := strings.Cut(newFullName, "/")
	if rp == nil || !ok || newOwner == "" || newName == "" || s.repos[strings.ToLower(newFullName)] != nil {
		panic(fmt.Sprintf("fakegithub: MoveRepo %q to %q: no such repository, or the new name is invalid or taken", fullName, newFullName))
	}
	oldOwner, oldName := rp.owner, rp.name
	delete(s.repos, strings.ToLower(fullName))
	rp.name = newName
	if !strings.EqualFold(oldOwner.login, newOwner) {
		rp.owner = s.userLocked(newOwner, "")
	}
	s.repos[strings.ToLower(newFullName)] = rp
	action, changes := "renamed", map[string]any{"repository": map[string]any{"name": map[string]any{"from": oldName}}}
	if rp.owner != oldOwner {
		from := map[string]any{"login": oldOwner.login, "id": oldOwner.id, "node_id": nodeID("U", oldOwner.id), "type": oldOwner.typ}
		kind := "user"
		if oldOwner.typ == "Organization" {
			kind = "organization"
		}
		action, changes = "transferred", map[string]any{"owner": map[string]any{"from": map[string]any{kind: from}}}
	}
	s.hook("repository", action, s.repoPayload(rp, s.userLocked(sender, ""), map[string]any{"changes": changes}))
}

// SetDefaultBranch makes an existing branch the repository's default and
// fires the "repository" edited webhook naming the change.
func (s *Server) SetDefaultBranch(fullName, branch, sender string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.repos[strings.ToLower(fullName)]
	if rp == nil {
		panic(fmt.Sprintf("fakegithub: SetDefaultBranch: no repository %q", fullName))
	}
	if _, ok := rp.branchSHA(branch); !ok {
		panic(fmt.Sprintf("fakegithub: SetDefaultBranch: %s has no branch %q", fullName, branch))
	}
	from := rp.defaultBranch
	rp.defaultBranch = branch
	s.hook("repository", "edited", s.repoPayload(rp, s.userLocked(sender, ""), map[string]any{
		"changes": map[string]any{"default_branch": map[string]any{"from": from}},
	}))
}
