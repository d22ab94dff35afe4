package fakegithub

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"
)

// What people do, as tests act it out: an edited comment shows a later
// updated_at, a removed label is gone, a deleted issue answers 410 Gone,
// and a lost delivery is recorded but never reaches the receiver.
func TestPeopleHelpers(t *testing.T) {
	e := setup(t)
	ctx, c, s := e.ctx, e.client, e.s
	var received atomic.Int32
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		received.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer recv.Close()
	s.SetWebhooks(recv.URL, "s")

	n := s.AddIssue(fullName, 0, "Req", "Body", "alice", []string{"tend", "bug"})
	id := s.AddComment(fullName, n, "alice", "LGTM")
	s.EditComment(fullName, id, "alice", "/reconcile")
	cm, _, err := c.Issues.GetComment(ctx, owner, repoName, id)
	if err != nil || cm.GetBody() != "/reconcile" || !cm.GetUpdatedAt().After(cm.GetCreatedAt().Time) {
		t.Fatalf("edited comment %+v %v", cm, err)
	}
	s.UnlabelIssue(fullName, n, "bug", "alice")
	s.EditIssueBody(fullName, n, "alice", "New body")
	is, _, err := c.Issues.Get(ctx, owner, repoName, n)
	if err != nil || len(is.Labels) != 1 || is.GetBody() != "New body" {
		t.Fatalf("issue %+v %v", is, err)
	}
	if err := s.WaitWebhooksDelivered(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	before := received.Load()
	s.DropWebhooks(1)
	s.DeleteIssue(fullName, n, "alice")
	if err := s.WaitWebhooksDelivered(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if received.Load() != before {
		t.Errorf("a dropped delivery reached the receiver")
	}
	ds := s.Deliveries()
	if last := ds[len(ds)-1]; last.Event != "issues" || last.Action != "deleted" || last.Err == "" {
		t.Errorf("the lost delivery was not recorded: %+v", last)
	}
	_, _, err = c.Issues.Get(ctx, owner, repoName, n)
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != http.StatusGone {
		t.Errorf("deleted issue answered %v", err)
	}
	if v := s.TakeViolations(); len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
}
