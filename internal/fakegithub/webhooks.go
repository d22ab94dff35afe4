package fakegithub

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Delivery is one webhook delivery attempt.
type Delivery struct {
	ID     string // X-GitHub-Delivery
	Event  string // X-GitHub-Event
	Action string
	Body   []byte
	Status int    // the receiver's HTTP status; 0 when the request failed
	Err    string // transport error, if any
	Time   time.Time
}

// hookQueue delivers webhooks one at a time, in order, off the request
// path. Failed deliveries are recorded, not retried (GitHub doesn't either).
type hookQueue struct {
	mu         sync.Mutex
	cond       *sync.Cond
	url        string
	secret     string
	appID      int64
	pending    []Delivery
	inFlight   bool
	deliveries []Delivery
	drop       int // the next deliveries to lose (see DropWebhooks)
	closed     bool
	client     *http.Client
	ctx        context.Context
	cancel     context.CancelFunc
	done       chan struct{}
}

func newHookQueue(url, secret string, appID int64) *hookQueue {
	ctx, cancel := context.WithCancel(context.Background())
	q := &hookQueue{
		url: url, secret: secret, appID: appID,
		client: &http.Client{Timeout: 30 * time.Second},
		ctx:    ctx, cancel: cancel, done: make(chan struct{}),
	}
	q.cond = sync.NewCond(&q.mu)
	go q.run()
	return q
}

func (q *hookQueue) enabled() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.url != "" && !q.closed
}

func (q *hookQueue) enqueue(d Delivery) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || q.url == "" {
		return
	}
	q.pending = append(q.pending, d)
	q.cond.Broadcast()
}

func (q *hookQueue) run() {
	defer close(q.done)
	for {
		q.mu.Lock()
		for len(q.pending) == 0 && !q.closed {
			q.cond.Wait()
		}
		if q.closed {
			q.mu.Unlock()
			return
		}
		d := q.pending[0]
		q.pending = q.pending[1:]
		if q.drop > 0 {
			q.drop--
			d.Time, d.Err = time.Now(), "dropped: the test lost this delivery"
			q.deliveries = append(q.deliveries, d)
			q.cond.Broadcast()
			q.mu.Unlock()
			continue
		}
		q.inFlight = true
		url, secret := q.url, q.secret
		q.mu.Unlock()

		d.Time = time.Now()
		status, err := q.post(url, secret, d)
		d.Status = status
		if err != nil {
			d.Err = err.Error()
		}

		q.mu.Lock()
		q.inFlight = false
		q.deliveries = append(q.deliveries, d)
		q.cond.Broadcast()
		q.mu.Unlock()
	}
}

func (q *hookQueue) post(url, secret string, d Delivery) (int, error) {
	req, err := http.NewRequestWithContext(q.ctx, http.MethodPost, url, bytes.NewReader(d.Body))
	if err != nil {
		return 0, fmt.Errorf("webhook request: %w", err)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(d.Body)
	mac1 := hmac.New(sha1.New, []byte(secret))
	mac1.Write(d.Body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitHub-Hookshot/fake")
	req.Header.Set("X-GitHub-Event", d.Event)
	req.Header.Set("X-GitHub-Delivery", d.ID)
	req.Header.Set("X-GitHub-Hook-ID", "1")
	req.Header.Set("X-GitHub-Hook-Installation-Target-ID", strconv.FormatInt(q.appID, 10))
	req.Header.Set("X-GitHub-Hook-Installation-Target-Type", "integration")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	req.Header.Set("X-Hub-Signature", "sha1="+hex.EncodeToString(mac1.Sum(nil)))
	resp, err := q.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("webhook delivery: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, nil
}

// wait blocks until nothing is pending or in flight.
func (q *hookQueue) wait(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, func() {
		q.mu.Lock()
		q.cond.Broadcast()
		q.mu.Unlock()
	})
	defer timer.Stop()
	q.mu.Lock()
	defer q.mu.Unlock()
	for (len(q.pending) > 0 || q.inFlight) && !q.closed {
		if !time.Now().Before(deadline) {
			return fmt.Errorf("fakegithub: %d webhooks still undelivered after %v", len(q.pending)+boolInt(q.inFlight), timeout)
		}
		q.cond.Wait()
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (q *hookQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.cond.Broadcast()
	q.mu.Unlock()
	q.cancel()
	<-q.done
}

// SetWebhooks sets (or, with url "", clears) where webhooks go; deliveries
// queued afterwards use it.
func (s *Server) SetWebhooks(url, secret string) {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	s.hooks.url, s.hooks.secret = url, secret
}

// WaitWebhooksDelivered waits until every webhook fired so far has been
// delivered (or has failed).
func (s *Server) WaitWebhooksDelivered(timeout time.Duration) error {
	return s.hooks.wait(timeout)
}

// Deliveries lists the webhook deliveries made so far, in order.
func (s *Server) Deliveries() []Delivery {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	return append([]Delivery(nil), s.hooks.deliveries...)
}

func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return strconv.FormatInt(time.Now().UnixNano(), 16)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// hook queues a webhook. Payloads are built under the Server's lock, so they
// are snapshots of the state at the time of the change.
func (s *Server) hook(event, action string, payload map[string]any) {
	if payload == nil || !s.hooks.enabled() {
		return
	}
	if _, ok := payload["installation"]; !ok {
		return // GitHub only tells an App about repositories it is installed on
	}
	body := map[string]any{}
	if action != "" {
		body["action"] = action
	}
	for k, v := range payload {
		body[k] = v
	}
	raw, err := marshal(body)
	if err != nil {
		return
	}
	s.hooks.enqueue(Delivery{ID: newUUID(), Event: event, Action: action, Body: raw})
}

// repoPayload adds repository, sender, installation and organization to a
// payload for a repository event; it returns nil when the App is not
// installed on the repository.
func (s *Server) repoPayload(rp *repo, sender *user, kv map[string]any) map[string]any {
	if s.installations[rp.inst] == nil || !s.hooks.enabled() {
		return nil
	}
	if kv == nil {
		kv = map[string]any{}
	}
	kv["repository"] = s.repoJSON(rp)
	kv["sender"] = s.userJSON(sender)
	kv["installation"] = map[string]any{"id": rp.inst, "node_id": nodeID("MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u", rp.inst)}
	if rp.owner.typ == "Organization" {
		kv["organization"] = map[string]any{
			"login": rp.owner.login, "id": rp.owner.id, "node_id": nodeID("O", rp.owner.id),
			"url": s.apiURL("orgs/%s", rp.owner.login), "description": nil,
		}
	}
	return kv
}

func (s *Server) prEvent(rp *repo, is *issue, sender *user, extra map[string]any) map[string]any {
	if s.installations[rp.inst] == nil || !s.hooks.enabled() {
		return nil
	}
	kv := map[string]any{"number": is.number, "pull_request": s.prJSON(rp, is, true)}
	for k, v := range extra {
		kv[k] = v
	}
	return s.repoPayload(rp, sender, kv)
}

func (s *Server) issueEvent(rp *repo, is *issue, sender *user, extra map[string]any) map[string]any {
	if s.installations[rp.inst] == nil || !s.hooks.enabled() {
		return nil
	}
	kv := map[string]any{"issue": s.issueJSON(rp, is)}
	for k, v := range extra {
		kv[k] = v
	}
	return s.repoPayload(rp, sender, kv)
}

func (s *Server) commentEvent(rp *repo, cm *comment, sender *user, extra map[string]any) map[string]any {
	if s.installations[rp.inst] == nil || !s.hooks.enabled() {
		return nil
	}
	kv := map[string]any{"issue": s.issueJSON(rp, cm.issue), "comment": s.commentJSON(rp, cm)}
	for k, v := range extra {
		kv[k] = v
	}
	return s.repoPayload(rp, sender, kv)
}

func (s *Server) checkRunEvent(cr *checkRun, sender *user, extra map[string]any) map[string]any {
	if s.installations[cr.repo.inst] == nil || !s.hooks.enabled() {
		return nil
	}
	j := s.checkRunJSON(cr)
	j["check_suite"] = map[string]any{
		"id": cr.suiteID, "head_sha": cr.headSHA, "status": cr.status, "app": s.checkRunAppJSON(cr),
		"pull_requests": j["pull_requests"], "head_branch": cr.repo.branchAt(cr.headSHA),
	}
	kv := map[string]any{"check_run": j}
	for k, v := range extra {
		kv[k] = v
	}
	return s.repoPayload(cr.repo, sender, kv)
}

// pushHook announces a ref change like GitHub's push event.
func (s *Server) pushHook(rp *repo, ref, before, after string, sender *user, forced bool) {
	if s.installations[rp.inst] == nil || !s.hooks.enabled() {
		return
	}
	if before == "" {
		before = zeroSHA
	}
	if after == "" {
		after = zeroSHA
	}
	fn := rp.fullName()
	var commits []any
	var head any
	if after != zeroSHA {
		// The commits new to the repository: not reachable from the old
		// value or, for a new ref, from any other ref.
		exclude := map[string]bool{}
		if before != zeroSHA {
			exclude = rp.st.ancestors(before)
		} else {
			for r, sha := range rp.refs {
				if r != ref {
					for k := range rp.st.ancestors(sha) {
						exclude[k] = true
					}
				}
			}
		}
		var shas []string
		for sha := range rp.st.ancestors(after) {
			if !exclude[sha] {
				shas = append(shas, sha)
			}
		}
		rp.st.sortBySeq(shas, false)
		if len(shas) > 20 { // GitHub lists at most 20 commits
			shas = shas[len(shas)-20:]
		}
		for _, sha := range shas {
			commits = append(commits, s.pushCommitJSON(rp, sha))
		}
		head = s.pushCommitJSON(rp, after)
	}
	if commits == nil {
		commits = []any{}
	}
	repoJSON := s.repoJSON(rp)
	repoJSON["created_at"] = rp.createdAt.Unix()
	repoJSON["pushed_at"] = rp.pushedAt.Unix()
	repoJSON["master_branch"] = rp.defaultBranch
	payload := s.repoPayload(rp, sender, map[string]any{
		"ref":         ref,
		"before":      before,
		"after":       after,
		"created":     before == zeroSHA,
		"deleted":     after == zeroSHA,
		"forced":      forced,
		"base_ref":    nil,
		"compare":     s.htmlURL("%s/compare/%s...%s", fn, before[:12], after[:12]),
		"commits":     commits,
		"head_commit": head,
		"pusher":      map[string]any{"name": sender.login, "email": sender.email()},
	})
	if payload == nil {
		return
	}
	payload["repository"] = repoJSON
	s.hook("push", "", payload)
}

func (s *Server) pushCommitJSON(rp *repo, sha string) map[string]any {
	c := rp.st.commit(sha)
	parentTree := ""
	if len(c.parents) > 0 {
		parentTree = rp.st.commit(c.parents[0]).tree
	}
	added, removed, modified := []string{}, []string{}, []string{}
	for _, ch := range rp.st.diffTrees(parentTree, c.tree) {
		switch ch.status {
		case "added":
			added = append(added, ch.path)
		case "removed":
			removed = append(removed, ch.path)
		case "renamed":
			added = append(added, ch.path)
			removed = append(removed, ch.prevPath)
		default:
			modified = append(modified, ch.path)
		}
	}
	person := func(sig signature) map[string]any {
		out := map[string]any{"name": sig.Name, "email": sig.Email, "date": ts(sig.When)}
		if u := s.userForSignature(sig); u != nil {
			out["username"] = u.login
		}
		return out
	}
	return map[string]any{
		"id":        sha,
		"tree_id":   c.tree,
		"distinct":  true,
		"message":   c.message,
		"timestamp": ts(c.committer.When),
		"url":       s.htmlURL("%s/commit/%s", rp.fullName(), sha),
		"author":    person(c.author),
		"committer": person(c.committer),
		"added":     added,
		"removed":   removed,
		"modified":  modified,
	}
}

var errNoHooks = errors.New("fakegithub: webhooks are not configured")

// Redeliver sends a past delivery again with the same X-GitHub-Delivery, as
// GitHub's "Redeliver" button does.
func (s *Server) Redeliver(id string) error {
	if !s.hooks.enabled() {
		return errNoHooks
	}
	for _, d := range s.Deliveries() {
		if d.ID == id {
			s.hooks.enqueue(Delivery{ID: d.ID, Event: d.Event, Action: d.Action, Body: d.Body})
			return nil
		}
	}
	return fmt.Errorf("fakegithub: no delivery %s", strings.TrimSpace(id))
}
