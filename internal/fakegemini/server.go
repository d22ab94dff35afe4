package fakegemini

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// maxBody bounds a request body (the real API's limit is 20 MB of inline
// data; agents send far less).
const maxBody = 64 << 20

// Request is one request the fake received, decoded.
type Request struct {
	// Index is the request's position in Requests(), from 0.
	Index int
	// Time is when the request arrived (its body read).
	Time time.Time
	// RPC is "generateContent", "streamGenerateContent" or "countTokens"
	// (or the unrecognised method name / "" for requests that match no
	// route).
	RPC string
	// Method and Path are the HTTP method and URL path, e.g.
	// POST /v1beta/models/gemini-2.5-flash:generateContent.
	Method, Path string
	// APIVersion is the path's first segment ("v1beta").
	APIVersion string
	// Model is the model named in the URL without the "models/" prefix
	// ("gemini-2.5-flash"); other resource names ("tunedModels/x") stay
	// whole.
	Model string
	// Stream is set for streamGenerateContent.
	Stream bool
	// APIKey is the x-goog-api-key header (or ?key=). It is never written
	// to violations or logs.
	APIKey string
	// Header holds the request headers, x-goog-api-key removed.
	Header http.Header
	// Body is the raw request body; len(Body) is what the client sent to
	// the model.
	Body []byte

	// Contents is the decoded conversation.
	Contents []Content
	// System is the text of systemInstruction (parts joined by "\n").
	System string
	// Tools lists the declared function names, in order.
	Tools []string
	// Declarations are the declared functions in full.
	Declarations []FunctionDeclaration
	// ToolConfig is toolConfig.functionCallingConfig, or nil.
	ToolConfig *ToolConfig
	// GenerationConfig is generationConfig as decoded JSON (temperature,
	// maxOutputTokens, thinkingConfig, responseMimeType, ...), or nil.
	GenerationConfig map[string]any

	// Turn is the index of the script turn that answered, or -1.
	Turn int
	// Status is the HTTP status the fake answered with.
	Status int
	// Abandoned is set once the client gave up on a delayed answer (its
	// deadline passed, or it went away) before the answer was sent.
	Abandoned bool
}

// LastContent is the request's last content, or a zero Content.
func (r Request) LastContent() Content {
	if len(r.Contents) == 0 {
		return Content{}
	}
	return r.Contents[len(r.Contents)-1]
}

// FunctionResponses lists the functionResponse parts of the last content:
// what the agent answered to the previous turn's function calls.
func (r Request) FunctionResponses() []FunctionResponse {
	var out []FunctionResponse
	for _, p := range r.LastContent().Parts {
		if p.FunctionResponse != nil {
			out = append(out, *p.FunctionResponse)
		}
	}
	return out
}

// FunctionResponse is the last content's functionResponse for the function
// name (the first one, when the name was called in parallel).
func (r Request) FunctionResponse(name string) (FunctionResponse, bool) {
	for _, fr := range r.FunctionResponses() {
		if fr.Name == name {
			return fr, true
		}
	}
	return FunctionResponse{}, false
}

// UserText joins the text parts of the last user content.
func (r Request) UserText() string {
	for i := len(r.Contents) - 1; i >= 0; i-- {
		if c := r.Contents[i]; c.Role == "user" || c.Role == "" {
			var texts []string
			for _, p := range c.Parts {
				if p.Text != "" && !p.Thought {
					texts = append(texts, p.Text)
				}
			}
			if len(texts) > 0 {
				return strings.Join(texts, "\n")
			}
		}
	}
	return ""
}

// Server is a scripted fake of the Gemini API. It is safe for concurrent
// use; requests are answered one at a time, in arrival order.
type Server struct {
	http      *httptest.Server
	base      string
	done      chan struct{}
	closeOnce sync.Once

	// serveMu serializes request handling so that turns run in order and
	// the conversation state below sees requests one by one.
	serveMu sync.Mutex
	pending *sentTurn
	count   int

	mu             sync.Mutex
	script         []Turn
	next           int
	requests       []Request
	violations     []string
	leftoverOK     bool
	rejectUnsigned bool
}

// sentTurn is a model turn with function calls the client must echo back.
type sentTurn struct {
	request int
	parts   []Part // args normalized as on the wire
}

// New starts a Server for a test, replaying script. Cleanup closes it and
// fails the test (t.Errorf) for every recorded violation and, unless
// AllowLeftover was called, for turns never requested. Use TakeViolations
// to consume expected violations first.
func New(t testing.TB, script ...Turn) *Server {
	t.Helper()
	s, err := Start(script...)
	if err != nil {
		t.Fatalf("fakegemini: %v", err)
	}
	t.Cleanup(func() {
		s.Close()
		for _, v := range s.Violations() {
			t.Errorf("fakegemini: %s", v)
		}
		s.mu.Lock()
		left, served, ok := len(s.script)-s.next, s.next, s.leftoverOK
		s.mu.Unlock()
		if left > 0 && !ok {
			t.Errorf("fakegemini: %d scripted turn(s) never requested (%d of %d served)", left, served, served+left)
		}
	})
	return s
}

// Start starts a Server on 127.0.0.1 without a testing.TB (for benchmark
// programs). The caller must Close it and read Violations itself.
func Start(script ...Turn) (*Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fakegemini: listen: %w", err)
	}
	s := &Server{
		done:   make(chan struct{}),
		script: append([]Turn(nil), script...),
	}
	s.http = &httptest.Server{
		Listener: l,
		Config:   &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second},
	}
	s.http.Start()
	s.base = s.http.URL + "/"
	return s, nil
}

// URL is the base URL to give genai: HTTPOptions.BaseURL or
// GOOGLE_GEMINI_BASE_URL. It ends with a slash.
func (s *Server) URL() string { return s.base }

// Close stops the server. Delayed answers still waiting are abandoned.
// Close is idempotent.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.http.Close()
	})
}

// Append adds turns to the end of the script.
func (s *Server) Append(turns ...Turn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, turns...)
}

// Remaining is the number of scripted turns not yet used.
func (s *Server) Remaining() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.script) - s.next
}

// AllowLeftover stops New's cleanup from failing the test over turns that
// were never requested.
func (s *Server) AllowLeftover() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.leftoverOK = true
}

// RejectMissingSignatures makes a request that fails the echo check (see
// the package documentation) answer 400 INVALID_ARGUMENT without consuming
// a turn, as Gemini 3 models do, instead of only recording a violation.
func (s *Server) RejectMissingSignatures() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejectUnsigned = true
}

// Requests lists every request received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Violations lists the protocol violations recorded so far, as
// "request #N (rpc model): problem".
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

// TakeViolations returns the recorded violations and clears them.
func (s *Server) TakeViolations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.violations
	s.violations = nil
	return v
}

// answer is a response ready to write.
type answer struct {
	status     int
	header     http.Header
	body       []byte
	delay      time.Duration
	disconnect bool
	// undo restores the echo expectation the answer replaced, for an
	// answer the client never reads (nil: nothing to restore).
	undo *sentTurn
	sets bool // the answer set a new echo expectation
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, readErr := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	arrived := time.Now()

	s.serveMu.Lock()
	req := Request{
		Index:  s.count,
		Method: r.Method,
		Path:   r.URL.Path,
		Body:   body,
		Header: r.Header.Clone(),
		Turn:   -1,
		Time:   arrived,
	}
	s.count++
	req.APIKey = r.Header.Get("X-Goog-Api-Key")
	if req.APIKey == "" {
		req.APIKey = r.URL.Query().Get("key")
	}
	req.Header.Del("X-Goog-Api-Key")
	var problems []string
	a := s.handle(&req, r, readErr, &problems)
	req.Status = a.status
	s.mu.Lock()
	s.requests = append(s.requests, req)
	for _, p := range problems {
		s.violations = append(s.violations, fmt.Sprintf("request #%d (%s): %s", req.Index, describeRoute(req), p))
	}
	s.mu.Unlock()
	s.serveMu.Unlock()

	if a.delay > 0 && !s.wait(r, a.delay) {
		s.abandon(req.Index, a)
		return
	}
	if a.disconnect {
		disconnect(w)
		return
	}
	for k, vs := range a.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(a.body)))
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}

// wait holds an answer back for d; false means the client gave up or the
// server closed first.
func (s *Server) wait(r *http.Request, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-r.Context().Done():
	case <-s.done:
	}
	return false
}

// abandon records that the client never read the answer to request
// index, and drops the echo expectation that answer set: the client's
// retry will not carry that model turn.
func (s *Server) abandon(index int, a answer) {
	s.serveMu.Lock()
	defer s.serveMu.Unlock()
	if a.sets && s.pending != nil && s.pending.request == index {
		s.pending = a.undo
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.requests {
		if s.requests[i].Index == index {
			s.requests[i].Abandoned = true
		}
	}
}

// disconnect closes the client's connection without an answer.
func disconnect(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // net/http closes the connection
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

func describeRoute(req Request) string {
	switch {
	case req.RPC != "" && req.Model != "":
		return req.RPC + " " + req.Model
	case req.RPC != "":
		return req.RPC
	}
	return req.Method + " " + req.Path
}

// handle decides the answer to req. It runs under serveMu.
func (s *Server) handle(req *Request, r *http.Request, readErr error, problems *[]string) answer {
	violate := func(format string, args ...any) {
		*problems = append(*problems, fmt.Sprintf(format, args...))
	}
	fail := func(code int, format string, args ...any) answer {
		msg := fmt.Sprintf(format, args...)
		violate("%s", msg)
		return jsonAnswer(code, errorJSON(code, "", msg, nil))
	}

	version, resource, rpc, ok := parsePath(r.URL.Path)
	if !ok {
		return fail(http.StatusNotFound, "fakegemini: no route for %s %s", r.Method, r.URL.Path)
	}
	req.APIVersion, req.RPC = version, rpc
	req.Model = strings.TrimPrefix(resource, "models/")
	switch version {
	case "v1beta", "v1", "v1alpha":
	default:
		return fail(http.StatusNotFound, "fakegemini: unknown API version %q in %s", version, r.URL.Path)
	}
	if !strings.HasPrefix(resource, "models/") && !strings.HasPrefix(resource, "tunedModels/") {
		return fail(http.StatusNotFound, "fakegemini: %q is not a model resource name", resource)
	}
	if req.Model == "" {
		return fail(http.StatusBadRequest, "fakegemini: empty model name in %s", r.URL.Path)
	}
	switch rpc {
	case "generateContent", "countTokens":
	case "streamGenerateContent":
		req.Stream = true
	default:
		return fail(http.StatusNotFound, "fakegemini: method %q is not implemented by the fake", rpc)
	}
	if r.Method != http.MethodPost {
		return fail(http.StatusMethodNotAllowed, "fakegemini: %s wants POST, got %s", rpc, r.Method)
	}
	if readErr != nil {
		return fail(http.StatusBadRequest, "fakegemini: reading the request body: %v", readErr)
	}
	if req.APIKey == "" {
		violate("no x-goog-api-key header (nor ?key=)")
		return jsonAnswer(http.StatusForbidden, errorJSON(http.StatusForbidden, "",
			"Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.", nil))
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		violate("Content-Type %q, want application/json", ct)
	}

	notes, err := decodeRequest(req)
	if err != nil {
		return fail(http.StatusBadRequest, "%v", err)
	}
	for _, n := range notes {
		violate("%s", n)
	}
	if len(req.Contents) == 0 {
		return fail(http.StatusBadRequest, "* GenerateContentRequest.contents: contents is not specified")
	}

	if rpc == "countTokens" {
		b, _ := json.Marshal(map[string]int{"totalTokens": estimateTokens(len(req.Body))})
		return jsonAnswer(http.StatusOK, b)
	}

	for _, p := range validateDeclarations(req.Declarations) {
		violate("%s", p)
	}
	for _, p := range validateConversation(req.Contents) {
		violate("%s", p)
	}
	if echo := s.checkEcho(req); len(echo) > 0 {
		for _, p := range echo {
			violate("%s", p)
		}
		s.mu.Lock()
		reject := s.rejectUnsigned
		s.mu.Unlock()
		if reject {
			return jsonAnswer(http.StatusBadRequest, errorJSON(http.StatusBadRequest, "",
				"Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call `default_api:"+firstCallName(s.pending)+"` , position 1. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.", nil))
		}
	}

	s.mu.Lock()
	var turn Turn
	turnIndex := s.next
	if s.next < len(s.script) {
		turn = s.script[s.next]
		s.next++
	}
	total := len(s.script)
	s.mu.Unlock()
	if turn == nil {
		if turnIndex < total {
			return fail(http.StatusInternalServerError, "fakegemini: script turn %d is nil", turnIndex)
		}
		return fail(http.StatusInternalServerError, "fakegemini: script exhausted: all %d turn(s) used, nothing scripted for this request", total)
	}
	req.Turn = turnIndex

	rep, err := runTurn(turn, *req)
	if err != nil {
		return fail(http.StatusInternalServerError, "fakegemini: turn %d: %v", turnIndex, err)
	}
	for _, v := range rep.Violations {
		violate("turn %d: %s", turnIndex, v)
	}
	return s.render(req, rep, violate)
}

// runTurn calls turn, turning a panic into an error.
func runTurn(turn Turn, req Request) (rep Reply, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panicked: %v", p)
		}
	}()
	return turn(req), nil
}

func parsePath(p string) (version, resource, rpc string, ok bool) {
	p = strings.TrimPrefix(p, "/")
	version, rest, found := strings.Cut(p, "/")
	if !found {
		return "", "", "", false
	}
	i := strings.LastIndex(rest, ":")
	if i <= 0 || i == len(rest)-1 {
		return "", "", "", false
	}
	return version, rest[:i], rest[i+1:], true
}

func jsonAnswer(code int, body []byte) answer {
	return answer{
		status: code,
		header: http.Header{"Content-Type": {"application/json; charset=UTF-8"}},
		body:   body,
	}
}

func estimateTokens(n int) int {
	if n <= 0 {
		return 0
	}
	return max(1, n/4)
}

// render turns a Reply into an answer and updates the conversation state.
func (s *Server) render(req *Request, rep Reply, violate func(string, ...any)) answer {
	before := s.pending
	a := s.renderBody(req, rep, violate)
	a.delay, a.disconnect = rep.Delay, rep.Disconnect
	a.sets = s.pending != nil && s.pending.request == req.Index
	a.undo = before
	if rep.Truncate != 0 {
		n := rep.Truncate
		if n < 0 || n > len(a.body) {
			n = len(a.body) / 2
		}
		a.body = a.body[:n]
	}
	if a.sets && (rep.Truncate != 0 || rep.Disconnect) {
		// The client cannot read these calls, so it cannot echo them.
		s.pending, a.sets = before, false
	}
	for k, v := range rep.Header {
		a.header.Set(k, v)
	}
	return a
}

func (s *Server) renderBody(req *Request, rep Reply, violate func(string, ...any)) answer {
	status := rep.Status
	if status == 0 {
		status = http.StatusOK
	}
	if rep.Raw {
		return jsonAnswer(status, []byte(rep.Body))
	}
	if status >= 300 {
		msg := rep.ErrorMessage
		if msg == "" {
			msg = defaultErrorMessage(status)
		}
		return jsonAnswer(status, errorJSON(status, rep.ErrorStatus, msg, rep.ErrorDetails))
	}

	resp := wireResponse{
		ModelVersion: rep.ModelVersion,
		ResponseID:   rep.ResponseID,
	}
	if resp.ModelVersion == "" {
		resp.ModelVersion = req.Model
	}
	if resp.ResponseID == "" {
		resp.ResponseID = randomID()
	}
	var parts []Part
	if rep.NoCandidate {
		resp.PromptFeedback = &wirePromptFeedback{
			BlockReason:        rep.BlockReason,
			BlockReasonMessage: rep.BlockReasonMessage,
			SafetyRatings:      rep.SafetyRatings,
		}
	} else {
		parts = clonePartsShallow(rep.Parts)
		signed := false
		for i := range parts {
			p := &parts[i]
			if p.FunctionCall == nil || p.ThoughtSignature != nil || rep.Unsigned {
				continue
			}
			if rep.SignFirstCallOnly && signed {
				continue
			}
			p.ThoughtSignature = randomBytes(48)
			signed = true
		}
		s.checkReplyCalls(req, rep, parts, violate)
		finish := rep.FinishReason
		if finish == "" {
			finish = "STOP"
		}
		c := wireCandidate{FinishReason: finish, FinishMessage: rep.FinishMessage, SafetyRatings: rep.SafetyRatings}
		switch {
		case rep.OmitContent:
		case rep.EmptyContent && len(parts) == 0:
			c.Content = &wireContentOut{}
		default:
			c.Content = &wireContentOut{Role: "model", Parts: encodeParts(parts)}
		}
		resp.Candidates = []wireCandidate{c}

		// Conversation state: a clean stop with function calls must be
		// echoed by the next request of this conversation.
		s.pending = nil
		if hasCalls(parts) && finish == "STOP" && c.Content != nil {
			norm := clonePartsShallow(parts)
			for i := range norm {
				if norm[i].FunctionCall != nil {
					norm[i].FunctionCall.Args = normalize(norm[i].FunctionCall.Args)
				}
			}
			s.pending = &sentTurn{request: req.Index, parts: norm}
		}
	}
	resp.UsageMetadata = usageFor(req, rep, parts)

	b, err := json.Marshal(resp)
	if err != nil {
		msg := fmt.Sprintf("fakegemini: cannot encode the reply (function call args must be JSON-encodable): %v", err)
		violate("%s", msg)
		return jsonAnswer(http.StatusInternalServerError, errorJSON(http.StatusInternalServerError, "", msg, nil))
	}
	if req.Stream {
		return answer{
			status: status,
			header: http.Header{"Content-Type": {"text/event-stream"}},
			body:   []byte("data: " + string(b) + "\r\n\r\n"),
		}
	}
	return jsonAnswer(status, b)
}

func usageFor(req *Request, rep Reply, parts []Part) *wireUsage {
	u := Usage{Prompt: estimateTokens(len(req.Body))}
	if rep.Usage != nil {
		u = *rep.Usage
	} else if len(parts) > 0 {
		b, _ := json.Marshal(encodeParts(parts))
		u.Candidates = estimateTokens(len(b))
	}
	total := u.Total
	if total == 0 {
		total = u.Prompt + u.Candidates + u.Thoughts
	}
	w := &wireUsage{
		PromptTokenCount:        u.Prompt,
		CandidatesTokenCount:    u.Candidates,
		ThoughtsTokenCount:      u.Thoughts,
		CachedContentTokenCount: u.Cached,
		TotalTokenCount:         total,
	}
	if u.Prompt > 0 {
		w.PromptTokensDetails = []wireModalityCount{{Modality: "TEXT", TokenCount: u.Prompt}}
	}
	return w
}

func hasCalls(parts []Part) bool {
	for _, p := range parts {
		if p.FunctionCall != nil {
			return true
		}
	}
	return false
}

func firstCallName(t *sentTurn) string {
	if t != nil {
		for _, p := range t.parts {
			if p.FunctionCall != nil {
				return p.FunctionCall.Name
			}
		}
	}
	return "unknown"
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand does not fail on supported platforms; fall back to a
		// time-derived value rather than panic.
		now := time.Now().UnixNano()
		for i := range b {
			b[i] = byte(now >> (8 * (i % 8)))
		}
	}
	return b
}

func randomID() string {
	return base64.RawURLEncoding.EncodeToString(randomBytes(16))
}
