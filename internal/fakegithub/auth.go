package fakegithub

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// GenerateAppKey makes an RSA key for a test App and returns it with its
// PKCS#1 PEM encoding (what GitHub hands out and go-githubapp reads).
func GenerateAppKey() (*rsa.PrivateKey, []byte) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil
	}
	return key, encodeKeyPEM(key)
}

func encodeKeyPEM(key *rsa.PrivateKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
}

func b64url(s string) string { return base64.URLEncoding.EncodeToString([]byte(s)) }

type user struct {
	id    int64
	login string
	typ   string // User, Bot or Organization
}

type installation struct {
	id        int64
	account   *user
	createdAt time.Time
	suspended bool // tokens are refused while set
	// suspendedAt is when the installation was suspended (zero: it is not).
	suspendedAt time.Time
}

type token struct {
	value   string
	inst    *installation // nil for user tokens
	user    *user
	expires time.Time      // zero: never
	repos   map[int64]bool // nil: every repository of the installation
}

// userLocked returns the user with the login, creating it.
func (s *Server) userLocked(login, typ string) *user {
	key := strings.ToLower(login)
	if u := s.users[key]; u != nil {
		return u
	}
	if typ == "" {
		typ = "User"
		if strings.HasSuffix(login, "[bot]") {
			typ = "Bot"
		}
	}
	u := &user{id: s.newID(), login: login, typ: typ}
	s.users[key] = u
	return u
}

func (s *Server) userJSON(u *user) map[string]any {
	if u == nil {
		return nil
	}
	return map[string]any{
		"login":               u.login,
		"id":                  u.id,
		"node_id":             nodeID("U", u.id),
		"avatar_url":          "https://avatars.githubusercontent.com/u/" + strconv.FormatInt(u.id, 10) + "?v=4",
		"gravatar_id":         "",
		"url":                 s.apiURL("users/%s", u.login),
		"html_url":            s.htmlURL("%s", u.login),
		"followers_url":       s.apiURL("users/%s/followers", u.login),
		"following_url":       s.apiURL("users/%s/following{/other_user}", u.login),
		"gists_url":           s.apiURL("users/%s/gists{/gist_id}", u.login),
		"starred_url":         s.apiURL("users/%s/starred{/owner}{/repo}", u.login),
		"subscriptions_url":   s.apiURL("users/%s/subscriptions", u.login),
		"organizations_url":   s.apiURL("users/%s/orgs", u.login),
		"repos_url":           s.apiURL("users/%s/repos", u.login),
		"events_url":          s.apiURL("users/%s/events{/privacy}", u.login),
		"received_events_url": s.apiURL("users/%s/received_events", u.login),
		"type":                u.typ,
		"user_view_type":      "public",
		"site_admin":          false,
	}
}

// email is the noreply address GitHub gives a user.
func (u *user) email() string {
	return fmt.Sprintf("%d+%s@users.noreply.github.com", u.id, u.login)
}

// AddInstallation installs the App on an account (an organization). It fires
// an "installation" created webhook when webhooks are configured.
func (s *Server) AddInstallation(id int64, account string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.installations[id]; ok {
		return
	}
	inst := &installation{id: id, account: s.userLocked(account, "Organization"), createdAt: now()}
	s.installations[id] = inst
	s.hook("installation", "created", map[string]any{
		"installation": s.installationJSON(inst),
		"repositories": []any{},
		"requester":    nil,
		"sender":       s.userJSON(s.userLocked(account, "")),
	})
}

// suspendedMessage is GitHub's answer to a suspended installation's
// token requests and tokens.
const suspendedMessage = "This installation has been suspended"

// SuspendInstallation suspends (or, with suspended false, unsuspends) an
// installation, as its account's owner can: while suspended, token
// requests and the installation's tokens are answered 403. It fires the
// "installation" suspend or unsuspend webhook shaped as GitHub's: the
// installation and its sender, and no list of repositories.
func (s *Server) SuspendInstallation(id int64, suspended bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	inst := s.installations[id]
	if inst == nil || inst.suspended == suspended {
		return
	}
	inst.suspended = suspended
	action := "unsuspend"
	if suspended {
		action = "suspend"
		inst.suspendedAt = now()
	} else {
		inst.suspendedAt = time.Time{}
	}
	s.hook("installation", action, map[string]any{
		"installation": s.installationJSON(inst),
		"sender":       s.userJSON(inst.account),
	})
}

// UserToken returns a token that acts as the user (created if needed) with
// access to every repository, like a personal access token; it never
// expires. Useful to act as a human through the API.
func (s *Server) UserToken(login string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userLocked(login, "")
	for _, t := range s.tokens {
		if t.inst == nil && t.user == u {
			return t.value
		}
	}
	t := &token{value: "ghp_" + randomToken(36), user: u}
	s.tokens[t.value] = t
	return t.value
}

func randomToken(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	var b strings.Builder
	for i := 0; i < n; i++ {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			b.WriteByte('x')
			continue
		}
		b.WriteByte(alphabet[k.Int64()])
	}
	return b.String()
}

var appOperations = map[string]bool{
	"apps/get-repo-installation": true,
	"apps/get-org-installation":  true,
	"apps/get-user-installation": true,
}

// authenticate resolves the Authorization header. It answers 401 itself.
func (s *Server) authenticate(c *call) bool {
	op := c.m.op.OperationID
	needsJWT := strings.HasPrefix(c.m.route.template, "/app") || appOperations[op]
	auth := c.r.Header.Get("Authorization")
	if auth == "" {
		if op == "meta/root" || op == "rate-limit/get" || op == "apps/create-from-manifest" {
			return true
		}
		c.fail(http.StatusUnauthorized, "Requires authentication")
		return false
	}
	scheme, cred, _ := strings.Cut(auth, " ")
	cred = strings.TrimSpace(cred)
	if !strings.EqualFold(scheme, "bearer") && !strings.EqualFold(scheme, "token") {
		c.fail(http.StatusUnauthorized, "Bad credentials")
		return false
	}
	if strings.Count(cred, ".") == 2 {
		if err := s.verifyJWT(cred); err != nil {
			c.fail(http.StatusUnauthorized, err.Error())
			return false
		}
		if !needsJWT {
			c.fail(http.StatusUnauthorized, "A JSON web token is not accepted for this endpoint; use an installation access token")
			return false
		}
		c.app = true
		return true
	}
	t := s.tokens[cred]
	if t == nil || (!t.expires.IsZero() && !time.Now().Before(t.expires)) {
		c.fail(http.StatusUnauthorized, "Bad credentials")
		return false
	}
	if t.inst != nil && t.inst.suspended {
		c.fail(http.StatusForbidden, suspendedMessage)
		return false
	}
	if needsJWT {
		c.fail(http.StatusUnauthorized, "A JSON web token could not be decoded")
		return false
	}
	c.token = t
	c.inst = t.inst
	c.actor = t.user
	return true
}

// verifyJWT checks an App JWT the way GitHub does: RS256 signed by the App's
// key, iss = App id, not expired, and expiring at most 10 minutes ahead.
func (s *Server) verifyJWT(raw string) error {
	bad := errors.New("A JSON web token could not be decoded")
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return bad
	}
	dec := func(p string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(strings.TrimRight(p, "=")) }
	hb, err := dec(parts[0])
	if err != nil {
		return bad
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(hb, &header) != nil || header.Alg != "RS256" {
		return bad
	}
	sig, err := dec(parts[2])
	if err != nil {
		return bad
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(&s.cfg.key.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		return bad
	}
	cb, err := dec(parts[1])
	if err != nil {
		return bad
	}
	var claims struct {
		Iss json.RawMessage `json:"iss"`
		Iat *float64        `json:"iat"`
		Exp *float64        `json:"exp"`
	}
	if json.Unmarshal(cb, &claims) != nil {
		return bad
	}
	iss := strings.Trim(string(claims.Iss), `"`)
	if iss != strconv.FormatInt(s.cfg.appID, 10) {
		return errors.New("Integration not found")
	}
	nowUnix := float64(time.Now().Unix())
	if claims.Exp == nil || *claims.Exp < nowUnix {
		return errors.New("'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires")
	}
	if *claims.Exp > nowUnix+600+60 {
		return errors.New("'Expiration time' claim ('exp') is too far in the future")
	}
	if claims.Iat == nil || *claims.Iat > nowUnix+60 {
		return errors.New("'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued")
	}
	return nil
}

// canSee reports whether the caller may see the repository; GitHub answers
// 404 otherwise.
func (c *call) canSee(rp *repo) bool {
	switch {
	case c.app:
		return c.m.op.OperationID == "apps/get-repo-installation"
	case c.inst != nil:
		if rp.inst != c.inst.id {
			return false
		}
		return c.token.repos == nil || c.token.repos[rp.id]
	case c.actor != nil:
		return true
	}
	return !rp.private
}

// repo resolves {owner}/{repo} for the caller, answering 404 when unknown
// or not visible.
func (c *call) repo() *repo {
	rp := c.s.repos[strings.ToLower(c.param("owner")+"/"+c.param("repo"))]
	if rp == nil || !c.canSee(rp) {
		c.notFound()
		return nil
	}
	return rp
}

// who is the user acting: the bot for installation tokens.
func (c *call) who() *user {
	if c.actor != nil {
		return c.actor
	}
	return c.s.bot
}

var appPermissions = map[string]any{
	"actions":       "read",
	"checks":        "write",
	"contents":      "write",
	"issues":        "write",
	"metadata":      "read",
	"pull_requests": "write",
	"statuses":      "read",
}

var appEvents = []string{"check_run", "check_suite", "issue_comment", "issues", "pull_request", "pull_request_review", "pull_request_review_comment", "push", "release", "status", "workflow_run"}

func (s *Server) installationJSON(inst *installation) map[string]any {
	out := map[string]any{
		"id":                        inst.id,
		"node_id":                   nodeID("MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u", inst.id),
		"account":                   s.userJSON(inst.account),
		"repository_selection":      "selected",
		"access_tokens_url":         s.apiURL("app/installations/%d/access_tokens", inst.id),
		"repositories_url":          s.apiURL("installation/repositories"),
		"html_url":                  s.htmlURL("organizations/%s/settings/installations/%d", inst.account.login, inst.id),
		"app_id":                    s.cfg.appID,
		"client_id":                 "Iv1.fake" + strconv.FormatInt(s.cfg.appID, 10),
		"app_slug":                  s.cfg.slug,
		"target_id":                 inst.account.id,
		"target_type":               inst.account.typ,
		"permissions":               appPermissions,
		"events":                    appEvents,
		"created_at":                ts(inst.createdAt),
		"updated_at":                ts(inst.createdAt),
		"single_file_name":          nil,
		"has_multiple_single_files": false,
		"single_file_paths":         []string{},
		"suspended_by":              nil,
		"suspended_at":              nil,
	}
	if inst.suspended {
		out["suspended_by"] = s.userJSON(inst.account)
		out["suspended_at"] = ts(inst.suspendedAt)
	}
	return out
}

func (s *Server) sortedInstallations() []*installation {
	out := make([]*installation, 0, len(s.installations))
	for _, i := range s.installations {
		out = append(out, i)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].id < out[b].id })
	return out
}

// Handlers: the App.

func (s *Server) getApp(c *call) {
	c.json(http.StatusOK, map[string]any{
		"id":                  s.cfg.appID,
		"slug":                s.cfg.slug,
		"client_id":           "Iv1.fake" + strconv.FormatInt(s.cfg.appID, 10),
		"node_id":             nodeID("A", s.cfg.appID),
		"owner":               s.userJSON(s.app),
		"name":                s.cfg.slug,
		"description":         "A fake GitHub App",
		"external_url":        "https://example.com/" + s.cfg.slug,
		"html_url":            s.htmlURL("apps/%s", s.cfg.slug),
		"created_at":          "2024-01-01T00:00:00Z",
		"updated_at":          "2024-01-01T00:00:00Z",
		"permissions":         appPermissions,
		"events":              appEvents,
		"installations_count": len(s.installations),
	})
}

func (s *Server) listAppInstallations(c *call) {
	var out []any
	for _, inst := range paginate(c, s.sortedInstallations()) {
		out = append(out, s.installationJSON(inst))
	}
	if out == nil {
		out = []any{}
	}
	c.json(http.StatusOK, out)
}

func (s *Server) getAppInstallation(c *call) {
	id, ok := c.intParam("installation_id")
	if !ok {
		return
	}
	inst := s.installations[id]
	if inst == nil {
		c.notFound()
		return
	}
	c.json(http.StatusOK, s.installationJSON(inst))
}

func (s *Server) createInstallationToken(c *call) {
	id, ok := c.intParam("installation_id")
	if !ok {
		return
	}
	inst := s.installations[id]
	if inst == nil {
		c.notFound()
		return
	}
	if inst.suspended {
		c.fail(http.StatusForbidden, suspendedMessage)
		return
	}
	var req struct {
		Repositories  []string `json:"repositories"`
		RepositoryIDs []int64  `json:"repository_ids"`
	}
	if !c.decode(&req) {
		return
	}
	t := &token{value: "ghs_" + randomToken(36), inst: inst, user: s.bot, expires: time.Now().Add(s.cfg.tokenTTL)}
	var repos []any
	if len(req.Repositories) > 0 || len(req.RepositoryIDs) > 0 {
		t.repos = map[int64]bool{}
		for _, name := range req.Repositories {
			rp := s.repos[strings.ToLower(inst.account.login+"/"+name)]
			if rp == nil || rp.inst != inst.id {
				c.unprocessable("There is at least one repository that does not exist or is not accessible to the parent installation.")
				return
			}
			t.repos[rp.id] = true
			repos = append(repos, s.repoJSON(rp))
		}
		for _, rid := range req.RepositoryIDs {
			rp := s.reposByID[rid]
			if rp == nil || rp.inst != inst.id {
				c.unprocessable("There is at least one repository that does not exist or is not accessible to the parent installation.")
				return
			}
			t.repos[rp.id] = true
			repos = append(repos, s.repoJSON(rp))
		}
	}
	s.tokens[t.value] = t
	out := map[string]any{
		"token":                t.value,
		"expires_at":           ts(t.expires),
		"permissions":          appPermissions,
		"repository_selection": "selected",
	}
	if repos != nil {
		out["repositories"] = repos
	}
	c.json(http.StatusCreated, out)
}

func (s *Server) getRepoInstallation(c *call) {
	rp := s.repos[strings.ToLower(c.param("owner")+"/"+c.param("repo"))]
	if rp == nil || s.installations[rp.inst] == nil {
		c.notFound()
		return
	}
	c.json(http.StatusOK, s.installationJSON(s.installations[rp.inst]))
}

func (s *Server) getAccountInstallation(c *call) {
	login := c.param("org")
	if login == "" {
		login = c.param("username")
	}
	for _, inst := range s.sortedInstallations() {
		if strings.EqualFold(inst.account.login, login) {
			c.json(http.StatusOK, s.installationJSON(inst))
			return
		}
	}
	c.notFound()
}

func (s *Server) listInstallationRepos(c *call) {
	if c.inst == nil {
		c.fail(http.StatusForbidden, "This endpoint requires an installation access token")
		return
	}
	var all []*repo
	for _, rp := range s.sortedRepos() {
		if c.canSee(rp) {
			all = append(all, rp)
		}
	}
	var out []any
	for _, rp := range paginate(c, all) {
		out = append(out, s.repoJSON(rp))
	}
	if out == nil {
		out = []any{}
	}
	c.json(http.StatusOK, map[string]any{
		"total_count":          len(all),
		"repositories":         out,
		"repository_selection": "selected",
	})
}
