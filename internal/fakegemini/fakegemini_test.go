package fakegemini_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/genai"

	"github.com/tend-app/tend/internal/fakegemini"
)

const model = "gemini-test-flash"

func newClient(t *testing.T, srv *fakegemini.Server, mod ...func(*genai.ClientConfig)) *genai.Client {
	t.Helper()
	cfg := &genai.ClientConfig{
		APIKey:      "test-key",
		Backend:     genai.BackendGeminiAPI,
		HTTPOptions: genai.HTTPOptions{BaseURL: srv.URL()},
	}
	for _, m := range mod {
		m(cfg)
	}
	c, err := genai.NewClient(context.Background(), cfg)
	if err != nil {
		t.Fatalf("genai.NewClient: %v", err)
	}
	return c
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

var tools = []*genai.Tool{{FunctionDeclarations: []*genai.FunctionDeclaration{
	{
		Name:        "read_file",
		Description: "Read a file of the repository.",
		Parameters: &genai.Schema{
			Type:       genai.TypeObject,
			Properties: map[string]*genai.Schema{"path": {Type: genai.TypeString}},
			Required:   []string{"path"},
		},
	},
	{
		Name:        "write_file",
		Description: "Write a file of the repository.",
		ParametersJsonSchema: map[string]any{
			"type": "object",
			"properties": map[string]any{
				"path":    map[string]any{"type": "string"},
				"content": map[string]any{"type": "string"},
			},
			"required": []string{"path", "content"},
		},
	},
}}}

func config() *genai.GenerateContentConfig {
	return &genai.GenerateContentConfig{
		SystemInstruction: genai.NewContentFromText("You keep files at their desired state.", genai.RoleUser),
		Tools:             tools,
		Temperature:       genai.Ptr[float32](0),
	}
}

// agent is a minimal function-calling loop like the one tend runs.
type agent struct {
	client *genai.Client
	files  map[string]string
	// echo controls how the model's turn is put back into the history:
	// "content" appends the candidate's content as received (correct);
	// "rebuild" rebuilds it from FunctionCalls(), losing thoughtSignature.
	echo string
	// ids copies function call ids into the responses.
	ids bool
}

func (a *agent) run(ctx context.Context, prompt string) (*genai.GenerateContentResponse, error) {
	contents := []*genai.Content{genai.NewContentFromText(prompt, genai.RoleUser)}
	for range 10 {
		resp, err := a.client.Models.GenerateContent(ctx, model, contents, config())
		if err != nil {
			return nil, err
		}
		calls := resp.FunctionCalls()
		if len(calls) == 0 {
			return resp, nil
		}
		switch a.echo {
		case "rebuild":
			var parts []*genai.Part
			for _, c := range calls {
				parts = append(parts, genai.NewPartFromFunctionCall(c.Name, c.Args))
			}
			contents = append(contents, genai.NewContentFromParts(parts, genai.RoleModel))
		default:
			contents = append(contents, resp.Candidates[0].Content)
		}
		var answers []*genai.Part
		for _, c := range calls {
			out := a.call(c)
			p := genai.NewPartFromFunctionResponse(c.Name, out)
			if a.ids {
				p.FunctionResponse.ID = c.ID
			}
			answers = append(answers, p)
		}
		contents = append(contents, genai.NewContentFromParts(answers, genai.RoleUser))
	}
	return nil, errors.New("agent: too many steps")
}

func (a *agent) call(c *genai.FunctionCall) map[string]any {
	path, _ := c.Args["path"].(string)
	switch c.Name {
	case "read_file":
		if s, ok := a.files[path]; ok {
			return map[string]any{"content": s}
		}
		return map[string]any{"error": "not found"}
	case "write_file":
		s, _ := c.Args["content"].(string)
		a.files[path] = s
		return map[string]any{"ok": true}
	}
	return map[string]any{"error": "unknown tool " + c.Name}
}

func TestFunctionCallingConversation(t *testing.T) {
	srv := fakegemini.New(t,
		fakegemini.Call("read_file", map[string]any{"path": "docs/a.md"}),
		fakegemini.Expect(func(r fakegemini.Request) error {
			fr, ok := r.FunctionResponse("read_file")
			if !ok {
				return errors.New("no read_file response")
			}
			if fr.Response["content"] != "Hello" {
				return fmt.Errorf("read_file answered %v", fr.Response)
			}
			return nil
		}, fakegemini.Call("write_file", map[string]any{"path": "docs/a.md", "content": "Hello\nReviewed.\n"})),
		fakegemini.Text("Added the review line."),
	)
	a := &agent{client: newClient(t, srv), files: map[string]string{"docs/a.md": "Hello"}}
	resp, err := a.run(ctx(t), "Every doc must end with 'Reviewed.'")
	if err != nil {
		t.Fatalf("agent: %v", err)
	}
	if got := resp.Text(); got != "Added the review line." {
		t.Errorf("final text = %q", got)
	}
	if got := a.files["docs/a.md"]; got != "Hello\nReviewed.\n" {
		t.Errorf("file = %q", got)
	}
	if v := srv.TakeViolations(); len(v) > 0 {
		t.Fatalf("violations: %q", v)
	}

	reqs := srv.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	for i, r := range reqs {
		if r.APIKey != "test-key" {
			t.Errorf("request %d: api key %q", i, r.APIKey)
		}
		if r.Header.Get("X-Goog-Api-Key") != "" {
			t.Errorf("request %d: the recorded headers keep the api key", i)
		}
		if r.Model != model || r.RPC != "generateContent" || r.APIVersion != "v1beta" {
			t.Errorf("request %d: model %q rpc %q version %q", i, r.Model, r.RPC, r.APIVersion)
		}
		if r.System != "You keep files at their desired state." {
			t.Errorf("request %d: system %q", i, r.System)
		}
		if strings.Join(r.Tools, ",") != "read_file,write_file" {
			t.Errorf("request %d: tools %v", i, r.Tools)
		}
		if len(r.Body) == 0 || r.Status != http.StatusOK || r.Turn != i {
			t.Errorf("request %d: body %d bytes, status %d, turn %d", i, len(r.Body), r.Status, r.Turn)
		}
		if r.GenerationConfig["temperature"] != float64(0) {
			t.Errorf("request %d: generationConfig %v", i, r.GenerationConfig)
		}
	}
	d := reqs[0].Declarations
	if len(d) != 2 || d[0].Parameters == nil || d[1].ParametersJSONSchema == nil {
		t.Errorf("declarations = %+v", d)
	}
	last := reqs[2]
	if n := len(last.Contents); n != 5 {
		t.Fatalf("last request has %d contents, want 5", n)
	}
	roles := []string{}
	for _, c := range last.Contents {
		roles = append(roles, c.Role)
	}
	if got := strings.Join(roles, ","); got != "user,model,user,model,user" {
		t.Errorf("roles = %s", got)
	}
	for _, i := range []int{1, 3} {
		p := last.Contents[i].Parts[0]
		if p.FunctionCall == nil || len(p.ThoughtSignature) == 0 {
			t.Errorf("contents[%d] part = %+v, want a signed function call", i, p)
		}
	}
	if got := last.UserText(); got != "Every doc must end with 'Reviewed.'" {
		t.Errorf("UserText = %q", got)
	}
	if srv.Remaining() != 0 {
		t.Errorf("remaining = %d", srv.Remaining())
	}
}

func TestBaseURLFromEnvironment(t *testing.T) {
	srv := fakegemini.New(t, fakegemini.Text("hi"))
	t.Setenv("GOOGLE_GEMINI_BASE_URL", srv.URL())
	t.Setenv("GOOGLE_GENAI_USE_VERTEXAI", "")
	client, err := genai.NewClient(context.Background(), &genai.ClientConfig{
		APIKey:  "env-key",
		Backend: genai.BackendGeminiAPI,
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Models.GenerateContent(ctx(t), model, genai.Text("hello"), nil)
	if err != nil {
		t.Fatalf("GenerateContent: %v", err)
	}
	if resp.Text() != "hi" {
		t.Errorf("text = %q", resp.Text())
	}
	if r := srv.Requests(); len(r) != 1 || r[0].APIKey != "env-key" || r[0].Model != model {
		t.Errorf("requests = %+v", r)
	}
}

func TestMissingSignatureEchoIsViolation(t *testing.T) {
	srv := fakegemini.New(t,
		fakegemini.Call("read_file", map[string]any{"path": "x"}),
		fakegemini.Text("done"),
	)
	a := &agent{client: newClient(t, srv), files: map[string]string{}, echo: "rebuild"}
	if _, err := a.run(ctx(t), "go"); err != nil {
		t.Fatalf("agent: %v", err)
	}
	v := srv.TakeViolations()
	if len(v) != 1 || !strings.Contains(v[0], "thoughtSignature missing") || !strings.Contains(v[0], "request #1") {
		t.Fatalf("violations = %q, want one about the missing thoughtSignature in request #1", v)
	}
	if strings.Contains(strings.Join(v, " "), "test-key") {
		t.Error("a violation leaks the api key")
	}
}

func TestRejectMissingSignatures(t *testing.T) {
	srv := fakegemini.New(t,
		fakegemini.Call("read_file", map[string]any{"path": "x"}),
		fakegemini.Text("done"),
	)
	srv.RejectMissingSignatures()
	srv.AllowLeftover()
	a := &agent{client: newClient(t, srv), files: map[string]string{}, echo: "rebuild"}
	_, err := a.run(ctx(t), "go")
	var apiErr genai.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != 400 || apiErr.Status != "INVALID_ARGUMENT" || !strings.Contains(apiErr.Message, "thought_signature") {
		t.Fatalf("err = %v, want a 400 about thought_signature", err)
	}
	if srv.Remaining() != 1 {
		t.Errorf("the rejected request consumed a turn")
	}
	if v := srv.TakeViolations(); len(v) != 1 {
		t.Errorf("violations = %q", v)
	}
}

func TestParallelCallsWithIDs(t *testing.T) {
	script := func() []fakegemini.Turn {
		return []fakegemini.Turn{
			fakegemini.Calls(
				fakegemini.FunctionCall{ID: "c1", Name: "read_file", Args: map[string]any{"path": "a"}},
				fakegemini.FunctionCall{ID: "c2", Name: "read_file", Args: map[string]any{"path": "b"}},
			),
			fakegemini.Text("ok"),
		}
	}
	t.Run("ids echoed", func(t *testing.T) {
		srv := fakegemini.New(t, script()...)
		a := &agent{client: newClient(t, srv), files: map[string]string{"a": "A"}, ids: true}
		if _, err := a.run(ctx(t), "go"); err != nil {
			t.Fatal(err)
		}
		rs := srv.Requests()[1].FunctionResponses()
		if len(rs) != 2 || rs[0].ID != "c1" || rs[1].ID != "c2" {
			t.Errorf("responses = %+v", rs)
		}
	})
	t.Run("ids dropped", func(t *testing.T) {
		srv := fakegemini.New(t, script()...)
		a := &agent{client: newClient(t, srv), files: map[string]string{}}
		if _, err := a.run(ctx(t), "go"); err != nil {
			t.Fatal(err)
		}
		v := strings.Join(srv.TakeViolations(), "\n")
		if !strings.Contains(v, `has no functionResponse with the same name (id "c1")`) ||
			!strings.Contains(v, `has no functionResponse with the same name (id "c2")`) {
			t.Fatalf("violations = %s", v)
		}
	})
	t.Run("first call signed only", func(t *testing.T) {
		srv := fakegemini.New(t, func(r fakegemini.Request) fakegemini.Reply {
			rep := script()[0](r)
			rep.SignFirstCallOnly = true
			return rep
		}, fakegemini.Text("ok"))
		a := &agent{client: newClient(t, srv), files: map[string]string{}, ids: true}
		if _, err := a.run(ctx(t), "go"); err != nil {
			t.Fatal(err)
		}
		parts := srv.Requests()[1].Contents[1].Parts
		if len(parts[0].ThoughtSignature) == 0 || len(parts[1].ThoughtSignature) != 0 {
			t.Errorf("signatures: %d, %d bytes", len(parts[0].ThoughtSignature), len(parts[1].ThoughtSignature))
		}
	})
}

func TestConversationProblems(t *testing.T) {
	t.Run("wrong function answered", func(t *testing.T) {
		srv := fakegemini.New(t, fakegemini.Call("read_file", map[string]any{"path": "a"}), fakegemini.Text("ok"))
		c := newClient(t, srv)
		resp, err := c.Models.GenerateContent(ctx(t), model, genai.Text("go"), config())
		if err != nil {
			t.Fatal(err)
		}
		contents := []*genai.Content{
			genai.NewContentFromText("go", genai.RoleUser),
			resp.Candidates[0].Content,
			genai.NewContentFromFunctionResponse("write_file", map[string]any{"ok": true}, genai.RoleUser),
		}
		if _, err := c.Models.GenerateContent(ctx(t), model, contents, config()); err != nil {
			t.Fatal(err)
		}
		v := strings.Join(srv.TakeViolations(), "\n")
		if !strings.Contains(v, "functionCall read_file in contents[1] has no functionResponse") ||
			!strings.Contains(v, "functionResponse write_file in contents[2] answers no functionCall") {
			t.Fatalf("violations = %s", v)
		}
	})
	t.Run("undeclared tool in script", func(t *testing.T) {
		srv := fakegemini.New(t, fakegemini.Call("delete_repo", nil))
		c := newClient(t, srv)
		if _, err := c.Models.GenerateContent(ctx(t), model, genai.Text("go"), config()); err != nil {
			t.Fatal(err)
		}
		v := srv.TakeViolations()
		if len(v) != 1 || !strings.Contains(v[0], `script bug: the reply calls "delete_repo"`) {
			t.Fatalf("violations = %q", v)
		}
	})
	t.Run("allowed undeclared tool", func(t *testing.T) {
		srv := fakegemini.New(t, func(r fakegemini.Request) fakegemini.Reply {
			rep := fakegemini.Call("delete_repo", nil)(r)
			rep.AllowUndeclared = true
			return rep
		})
		c := newClient(t, srv)
		resp, err := c.Models.GenerateContent(ctx(t), model, genai.Text("go"), config())
		if err != nil {
			t.Fatal(err)
		}
		if fc := resp.FunctionCalls(); len(fc) != 1 || fc[0].Name != "delete_repo" || fc[0].Args == nil {
			t.Errorf("calls = %+v", fc)
		}
	})
	t.Run("model turn dropped", func(t *testing.T) {
		srv := fakegemini.New(t, fakegemini.Call("read_file", map[string]any{"path": "a"}), fakegemini.Text("ok"))
		c := newClient(t, srv)
		if _, err := c.Models.GenerateContent(ctx(t), model, genai.Text("go"), config()); err != nil {
			t.Fatal(err)
		}
		contents := []*genai.Content{
			genai.NewContentFromText("go", genai.RoleUser),
			genai.NewContentFromFunctionResponse("read_file", map[string]any{"content": "A"}, genai.RoleUser),
		}
		if _, err := c.Models.GenerateContent(ctx(t), model, contents, config()); err != nil {
			t.Fatal(err)
		}
		v := strings.Join(srv.TakeViolations(), "\n")
		if !strings.Contains(v, "is not echoed: the request has no model content") ||
			!strings.Contains(v, "does not follow a model functionCall") {
			t.Fatalf("violations = %s", v)
		}
	})
	t.Run("new conversation after calls", func(t *testing.T) {
		srv := fakegemini.New(t, fakegemini.Call("read_file", map[string]any{"path": "a"}), fakegemini.Text("ok"))
		c := newClient(t, srv)
		for range 2 {
			if _, err := c.Models.GenerateContent(ctx(t), model, genai.Text("start over"), config()); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestRateLimitRetryAfter(t *testing.T) {
	srv := fakegemini.New(t, fakegemini.Error(429, map[string]string{"Retry-After": "7"}, ""))
	// genai's APIError has no headers; a wrapping transport is the only
	// way to see Retry-After.
	var mu sync.Mutex
	var retryAfter string
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err == nil {
			mu.Lock()
			retryAfter = resp.Header.Get("Retry-After")
			mu.Unlock()
		}
		return resp, err
	})}
	c := newClient(t, srv, func(cfg *genai.ClientConfig) { cfg.HTTPClient = hc })
	_, err := c.Models.GenerateContent(ctx(t), model, genai.Text("go"), config())
	var apiErr genai.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %T %v, want genai.APIError", err, err)
	}
	if apiErr.Code != 429 || apiErr.Status != "RESOURCE_EXHAUSTED" || apiErr.Message == "" {
		t.Errorf("APIError = %+v", apiErr)
	}
	if len(apiErr.Details) != 1 || apiErr.Details[0]["@type"] != "type.googleapis.com/google.rpc.RetryInfo" || apiErr.Details[0]["retryDelay"] != "7s" {
		t.Errorf("details = %v, want RetryInfo 7s", apiErr.Details)
	}
	mu.Lock()
	defer mu.Unlock()
	if retryAfter != "7" {
		t.Errorf("Retry-After seen by the transport = %q", retryAfter)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests: genai retried by default", n)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestGenaiRetriesWhenAsked(t *testing.T) {
	srv := fakegemini.New(t,
		fakegemini.Call("read_file", map[string]any{"path": "a"}),
		fakegemini.Error(503, nil, ""),
		fakegemini.Error(500, nil, "boom"),
		fakegemini.Text("ok"),
	)
	zero := 0.0
	c := newClient(t, srv, func(cfg *genai.ClientConfig) {
		cfg.HTTPOptions.RetryOptions = &genai.HTTPRetryOptions{
			Attempts: genai.Ptr[int32](3), InitialDelay: &zero, Jitter: &zero,
		}
	})
	a := &agent{client: c, files: map[string]string{"a": "A"}}
	resp, err := a.run(ctx(t), "go")
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text() != "ok" {
		t.Errorf("text = %q", resp.Text())
	}
	reqs := srv.Requests()
	if len(reqs) != 4 {
		t.Fatalf("%d requests, want 4", len(reqs))
	}
	// The retried requests carry the same body, and each is checked against
	// the same pending model turn.
	if string(reqs[1].Body) != string(reqs[3].Body) {
		t.Error("retry changed the body")
	}
}

func TestBlocked(t *testing.T) {
	srv := fakegemini.New(t, fakegemini.Blocked("SAFETY"))
	resp, err := newClient(t, srv).Models.GenerateContent(ctx(t), model, genai.Text("go"), config())
	if err != nil {
		t.Fatal(err)
	}
	if resp.PromptFeedback == nil || resp.PromptFeedback.BlockReason != genai.BlockedReasonSafety {
		t.Fatalf("promptFeedback = %+v", resp.PromptFeedback)
	}
	if len(resp.Candidates) != 0 || resp.Text() != "" || resp.FunctionCalls() != nil {
		t.Errorf("candidates = %+v", resp.Candidates)
	}
	if len(resp.PromptFeedback.SafetyRatings) == 0 || !resp.PromptFeedback.SafetyRatings[0].Blocked {
		t.Errorf("safety ratings = %+v", resp.PromptFeedback.SafetyRatings)
	}
	if resp.UsageMetadata == nil || resp.UsageMetadata.PromptTokenCount == 0 {
		t.Errorf("usage = %+v", resp.UsageMetadata)
	}
}

func TestFinishWith(t *testing.T) {
	srv := fakegemini.New(t,
		fakegemini.FinishWith("MALFORMED_FUNCTION_CALL"),
		fakegemini.FinishWith("MAX_TOKENS", fakegemini.Part{Text: "partial"}),
		fakegemini.Empty(),
	)
	c := newClient(t, srv)
	resp, err := c.Models.GenerateContent(ctx(t), model, genai.Text("go"), config())
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Candidates) != 1 || resp.Candidates[0].FinishReason != genai.FinishReasonMalformedFunctionCall {
		t.Fatalf("candidates = %+v", resp.Candidates)
	}
	if cont := resp.Candidates[0].Content; cont == nil || len(cont.Parts) != 0 || cont.Role != "" {
		t.Errorf("content = %+v, want {}", cont)
	}
	if resp.FunctionCalls() != nil || resp.Text() != "" {
		t.Error("a malformed call yields calls or text")
	}

	resp, err = c.Models.GenerateContent(ctx(t), model, genai.Text("go"), config())
	if err != nil {
		t.Fatal(err)
	}
	if resp.Candidates[0].FinishReason != genai.FinishReasonMaxTokens || resp.Text() != "partial" {
		t.Errorf("MAX_TOKENS reply: %q %q", resp.Candidates[0].FinishReason, resp.Text())
	}

	resp, err = c.Models.GenerateContent(ctx(t), model, genai.Text("go"), config())
	if err != nil {
		t.Fatal(err)
	}
	if cont := resp.Candidates[0].Content; cont == nil || cont.Role != genai.RoleModel || len(cont.Parts) != 0 || resp.Candidates[0].FinishReason != genai.FinishReasonStop {
		t.Errorf("empty reply: %+v", resp.Candidates[0])
	}
}

func TestRawBodies(t *testing.T) {
	srv := fakegemini.New(t,
		fakegemini.Raw(200, `{"candidates": [`),
		fakegemini.Raw(502, "<html>Bad Gateway</html>"),
		fakegemini.Raw(200, `{"candidates": "nope"}`),
	)
	c := newClient(t, srv)
	_, err := c.Models.GenerateContent(ctx(t), model, genai.Text("go"), config())
	var apiErr genai.APIError
	if err == nil || errors.As(err, &apiErr) {
		t.Errorf("truncated JSON: err = %v, want a decoding error", err)
	}
	_, err = c.Models.GenerateContent(ctx(t), model, genai.Text("go"), config())
	if !errors.As(err, &apiErr) || apiErr.Code != 502 || apiErr.Status != "502 Bad Gateway" || !strings.Contains(apiErr.Message, "<html>") {
		t.Errorf("HTML 502: err = %#v", err)
	}
	// Valid JSON of the wrong shape: genai v1.77.0 does not return an error
	// but panics (an unchecked .([]any) in generateContentResponseFromMldev),
	// so callers that must survive a misbehaving endpoint need a recover.
	panicked, err := func() (p any, err error) {
		defer func() { p = recover() }()
		_, err = c.Models.GenerateContent(ctx(t), model, genai.Text("go"), config())
		return nil, err
	}()
	switch {
	case panicked != nil:
		t.Logf("genai panics on a wrong-typed candidates field: %v", panicked)
	case err == nil:
		t.Error("wrong-typed JSON: no error and no panic")
	}
}

func TestUsageMetadata(t *testing.T) {
	srv := fakegemini.New(t,
		fakegemini.WithUsage(fakegemini.Text("x"), 1234, 56),
		fakegemini.Text("estimated"),
	)
	c := newClient(t, srv)
	resp, err := c.Models.GenerateContent(ctx(t), model, genai.Text("go"), config())
	if err != nil {
		t.Fatal(err)
	}
	u := resp.UsageMetadata
	if u == nil || u.PromptTokenCount != 1234 || u.CandidatesTokenCount != 56 || u.TotalTokenCount != 1290 {
		t.Errorf("usage = %+v", u)
	}
	if resp.ModelVersion != model || resp.ResponseID == "" {
		t.Errorf("modelVersion %q responseId %q", resp.ModelVersion, resp.ResponseID)
	}
	resp, err = c.Models.GenerateContent(ctx(t), model, genai.Text("go"), config())
	if err != nil {
		t.Fatal(err)
	}
	body := srv.Requests()[1].Body
	if u := resp.UsageMetadata; u == nil || int(u.PromptTokenCount) != len(body)/4 || u.CandidatesTokenCount < 1 ||
		u.TotalTokenCount != u.PromptTokenCount+u.CandidatesTokenCount {
		t.Errorf("estimated usage = %+v for a %d-byte body", u, len(body))
	}
}

func TestScriptExhausted(t *testing.T) {
	srv := fakegemini.New(t)
	_, err := newClient(t, srv).Models.GenerateContent(ctx(t), model, genai.Text("go"), config())
	var apiErr genai.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != 500 || !strings.Contains(apiErr.Message, "script exhausted") {
		t.Fatalf("err = %v", err)
	}
	if v := srv.TakeViolations(); len(v) != 1 || !strings.Contains(v[0], "script exhausted") {
		t.Fatalf("violations = %q", v)
	}
}

func TestStreamAndCountTokens(t *testing.T) {
	srv := fakegemini.New(t,
		fakegemini.Call("read_file", map[string]any{"path": "a"}),
		fakegemini.Text("streamed"),
	)
	c := newClient(t, srv)
	n, err := c.Models.CountTokens(ctx(t), model, genai.Text("count me"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if n.TotalTokens < 1 || srv.Remaining() != 2 {
		t.Errorf("countTokens = %d, remaining %d", n.TotalTokens, srv.Remaining())
	}

	contents := genai.Text("go")
	var model0 *genai.Content
	for resp, err := range c.Models.GenerateContentStream(ctx(t), model, contents, config()) {
		if err != nil {
			t.Fatal(err)
		}
		model0 = resp.Candidates[0].Content
	}
	if model0 == nil || len(model0.Parts) != 1 || model0.Parts[0].FunctionCall == nil || len(model0.Parts[0].ThoughtSignature) == 0 {
		t.Fatalf("streamed content = %+v", model0)
	}
	contents = append(contents, model0, genai.NewContentFromFunctionResponse("read_file", map[string]any{"content": "A"}, genai.RoleUser))
	var text string
	for resp, err := range c.Models.GenerateContentStream(ctx(t), model, contents, config()) {
		if err != nil {
			t.Fatal(err)
		}
		text += resp.Text()
	}
	if text != "streamed" {
		t.Errorf("text = %q", text)
	}
	reqs := srv.Requests()
	if reqs[0].RPC != "countTokens" || !reqs[1].Stream || reqs[2].RPC != "streamGenerateContent" {
		t.Errorf("rpcs = %s %s %s", reqs[0].RPC, reqs[1].RPC, reqs[2].RPC)
	}
}

func TestChatEchoesSignatures(t *testing.T) {
	srv := fakegemini.New(t,
		fakegemini.Call("read_file", map[string]any{"path": "a"}),
		fakegemini.Text("ok"),
	)
	chat, err := newClient(t, srv).Chats.Create(ctx(t), model, config(), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := chat.SendMessage(ctx(t), genai.Part{Text: "go"})
	if err != nil {
		t.Fatal(err)
	}
	fc := resp.FunctionCalls()[0]
	if _, err := chat.SendMessage(ctx(t), *genai.NewPartFromFunctionResponse(fc.Name, map[string]any{"content": "A"})); err != nil {
		t.Fatal(err)
	}
}

func TestDelayedAnswerAndClientDeadline(t *testing.T) {
	srv := fakegemini.New(t, fakegemini.Delayed(5*time.Second, fakegemini.Text("late")))
	c, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := newClient(t, srv).Models.GenerateContent(c, model, genai.Text("go"), config())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want a deadline", err)
	}
	if time.Since(start) > 3*time.Second {
		t.Error("the delay ignored the client's deadline")
	}
}

// Requests that the real client cannot make.
func TestMalformedRequests(t *testing.T) {
	srv := fakegemini.New(t, fakegemini.Text("unused"))
	srv.AllowLeftover()
	post := func(path, key, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, srv.URL()+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("x-goog-api-key", key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	gen := "v1beta/models/m:generateContent"
	cases := []struct {
		path, key, body string
		status          int
		violation       string
	}{
		{gen, "k", `{"contents": [`, 400, "invalid JSON payload"},
		{gen, "k", `{"contents": 3}`, 400, "invalid JSON payload"},
		{gen, "k", `{"contents": [{"role":"user","parts":[{"functionCall": 7}]}]}`, 400, "functionCall"},
		{gen, "k", `{"contents": [{"role":"user","parts":[{"text":"x","thoughtSignature":"%%%"}]}]}`, 400, "not base64"},
		{gen, "k", `{}`, 400, "contents is not specified"},
		{gen, "", `{"contents":[{"role":"user","parts":[{"text":"x"}]}]}`, 403, "no x-goog-api-key"},
		{"v1beta/models/m:embedContent", "k", `{}`, 404, "not implemented"},
		{"nope", "k", `{}`, 404, "no route"},
		{"v9/models/m:generateContent", "k", `{}`, 404, "unknown API version"},
		{gen, "k", `{"contents":[{"role":"system","parts":[{}]}],"tools":[{"functionDeclarations":[{"name":"9bad"},{"name":"a","parameters":{},"parametersJsonSchema":{}}]}]}`, 200, ""},
	}
	for _, tc := range cases {
		status, body := post(tc.path, tc.key, tc.body)
		if status != tc.status {
			t.Errorf("%s %s: status %d, want %d (%s)", tc.path, tc.body, status, tc.status, body)
		}
		if status >= 400 && !strings.Contains(body, `"error":{"code":`) {
			t.Errorf("%s %s: body %s is not Google's error shape", tc.path, tc.body, body)
		}
		v := strings.Join(srv.TakeViolations(), "\n")
		if tc.violation != "" && !strings.Contains(v, tc.violation) {
			t.Errorf("%s %s: violations %q, want %q", tc.path, tc.body, v, tc.violation)
		}
		if tc.status == 200 {
			for _, want := range []string{`role is "system"`, "parts[0] is empty", `"9bad" is invalid`, "both parameters and parametersJsonSchema"} {
				if !strings.Contains(v, want) {
					t.Errorf("violations %q lack %q", v, want)
				}
			}
		}
	}
	if srv.Remaining() != 0 {
		t.Errorf("remaining = %d; only the last request should consume a turn", srv.Remaining())
	}
}

func TestTurnPanicAndAppend(t *testing.T) {
	srv := fakegemini.New(t, func(fakegemini.Request) fakegemini.Reply { panic("script bug") })
	c := newClient(t, srv)
	_, err := c.Models.GenerateContent(ctx(t), model, genai.Text("go"), config())
	var apiErr genai.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != 500 {
		t.Fatalf("err = %v", err)
	}
	if v := srv.TakeViolations(); len(v) != 1 || !strings.Contains(v[0], "panicked: script bug") {
		t.Fatalf("violations = %q", v)
	}
	srv.Append(fakegemini.Fixed(fakegemini.Reply{Parts: []fakegemini.Part{{Text: "appended"}}, Header: map[string]string{"X-Test": "1"}}))
	resp, err := c.Models.GenerateContent(ctx(t), model, genai.Text("go"), config())
	if err != nil || resp.Text() != "appended" {
		t.Fatalf("resp %v err %v", resp, err)
	}
	if resp.SDKHTTPResponse == nil || resp.SDKHTTPResponse.Headers.Get("X-Test") != "1" {
		t.Errorf("headers = %+v", resp.SDKHTTPResponse)
	}
}

// fakeTB records what New's cleanup reports.
type fakeTB struct {
	testing.TB
	mu       sync.Mutex
	errs     []string
	cleanups []func()
}

func (f *fakeTB) Helper()           {}
func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}
func (f *fakeTB) finish() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

func TestCleanupReports(t *testing.T) {
	tb := &fakeTB{TB: t}
	fakegemini.New(tb, fakegemini.Text("never"))
	tb.finish()
	if len(tb.errs) != 1 || !strings.Contains(tb.errs[0], "1 scripted turn(s) never requested") {
		t.Errorf("errs = %q", tb.errs)
	}

	tb = &fakeTB{TB: t}
	srv := fakegemini.New(tb, fakegemini.Text("never"))
	srv.AllowLeftover()
	tb.finish()
	if len(tb.errs) != 0 {
		t.Errorf("errs = %q", tb.errs)
	}

	tb = &fakeTB{TB: t}
	srv = fakegemini.New(tb)
	if _, err := newClient(t, srv).Models.GenerateContent(ctx(t), model, genai.Text("go"), config()); err == nil {
		t.Error("no error past the script")
	}
	tb.finish()
	if len(tb.errs) != 1 || !strings.Contains(tb.errs[0], "script exhausted") {
		t.Errorf("errs = %q", tb.errs)
	}
}

func TestStartWithoutTesting(t *testing.T) {
	srv, err := fakegemini.Start(fakegemini.Text("bench"))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	resp, err := newClient(t, srv).Models.GenerateContent(ctx(t), model, genai.Text("go"), nil)
	if err != nil || resp.Text() != "bench" {
		t.Fatalf("resp %v err %v", resp, err)
	}
	srv.Close()
	srv.Close() // idempotent
	if len(srv.Violations()) != 0 {
		t.Errorf("violations = %q", srv.Violations())
	}
}

func TestExpectAndToolConfig(t *testing.T) {
	srv := fakegemini.New(t,
		fakegemini.Expect(func(r fakegemini.Request) error {
			if r.System != "something else" {
				return fmt.Errorf("system = %q", r.System)
			}
			return nil
		}, fakegemini.Text("answered anyway")),
		fakegemini.Call("write_file", map[string]any{"path": "a", "content": "b"}),
	)
	c := newClient(t, srv)
	resp, err := c.Models.GenerateContent(ctx(t), model, genai.Text("go"), config())
	if err != nil || resp.Text() != "answered anyway" {
		t.Fatalf("resp %v err %v", resp, err)
	}
	v := srv.TakeViolations()
	if len(v) != 1 || !strings.Contains(v[0], "turn 0: expectation failed: system =") {
		t.Fatalf("violations = %q", v)
	}

	cfg := config()
	cfg.ToolConfig = &genai.ToolConfig{FunctionCallingConfig: &genai.FunctionCallingConfig{
		Mode: genai.FunctionCallingConfigModeAny, AllowedFunctionNames: []string{"read_file"},
	}}
	if _, err := c.Models.GenerateContent(ctx(t), model, genai.Text("go"), cfg); err != nil {
		t.Fatal(err)
	}
	r := srv.Requests()[1]
	if r.ToolConfig == nil || r.ToolConfig.Mode != "ANY" || len(r.ToolConfig.AllowedFunctionNames) != 1 {
		t.Errorf("toolConfig = %+v", r.ToolConfig)
	}
	v = srv.TakeViolations()
	if len(v) != 1 || !strings.Contains(v[0], `calls "write_file" outside toolConfig allowedFunctionNames`) {
		t.Fatalf("violations = %q", v)
	}
}
