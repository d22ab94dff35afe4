package fakegithub

import (
	"fmt"
	"strings"
	"time"
)

// What people do on GitHub that tests need to act out, beyond pushing and
// commenting: editing comments, removing labels, deleting issues, and
// deliveries GitHub loses.

// EditComment edits a comment as by; it fires "issue_comment" edited.
func (s *Server) EditComment(fullName string, id int64, by, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.mustRepo(fullName)
	cm := s.comments[id]
	if cm == nil || rp.issues[cm.issue.number] != cm.issue {
		panic(fmt.Sprintf("fakegithub: EditComment: no comment %d in %s", id, fullName))
	}
	old := cm.body
	cm.body = body
	// GitHub's timestamps have whole seconds; a person's edit is always
	// later than the comment, so the edit shows in updated_at.
	cm.updatedAt = now()
	if !cm.updatedAt.After(cm.createdAt) {
		cm.updatedAt = cm.createdAt.Add(time.Second)
	}
	s.hook("issue_comment", "edited", s.commentEvent(rp, cm, s.userLocked(by, ""), map[string]any{"changes": map[string]any{"body": map[string]any{"from": old}}}))
}

// UnlabelIssue removes a label from an issue or pull request as by; it
// fires "issues" (or "pull_request") unlabeled.
func (s *Server) UnlabelIssue(fullName string, number int, labelName, by string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, is := s.mustIssue(fullName, number, false, "UnlabelIssue")
	if l := rp.labels[strings.ToLower(labelName)]; l != nil {
		s.removeLabel(rp, is, l, s.userLocked(by, ""))
	}
}

// DeleteIssue deletes an issue as an admin would; it fires "issues"
// deleted, and the issue answers 410 Gone from then on.
func (s *Server) DeleteIssue(fullName string, number int, by string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, is := s.mustIssue(fullName, number, true, "DeleteIssue")
	payload := s.issueEvent(rp, is, s.userLocked(by, ""), nil)
	for _, cm := range is.comments {
		delete(s.comments, cm.id)
	}
	delete(rp.issues, number)
	if rp.deleted == nil {
		rp.deleted = map[int]bool{}
	}
	rp.deleted[number] = true
	s.hook("issues", "deleted", payload)
}

// DropWebhooks makes the next n webhooks get lost on the way, as GitHub's
// deliveries sometimes are: they are recorded (with Err set) but never
// reach the receiver.
func (s *Server) DropWebhooks(n int) {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	s.hooks.drop += n
}

// EditIssueBody edits an issue's body as by; it fires "issues" edited.
func (s *Server) EditIssueBody(fullName string, number int, by, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, is := s.mustIssue(fullName, number, true, "EditIssueBody")
	old := is.body
	is.body = body
	is.updatedAt = now()
	s.hook("issues", "edited", s.issueEvent(rp, is, s.userLocked(by, ""), map[string]any{"changes": map[string]any{"body": map[string]any{"from": old}}}))
}

// mustIssue returns an issue (or, unless plain, a pull request) that a test
// helper acts on; a missing one is a bug in the test.
func (s *Server) mustIssue(fullName string, number int, plain bool, helper string) (*repo, *issue) {
	rp := s.mustRepo(fullName)
	is := rp.issues[number]
	if is == nil || (plain && is.pr != nil) {
		panic(fmt.Sprintf("fakegithub: %s: no issue %s#%d", helper, fullName, number))
	}
	return rp, is
}
