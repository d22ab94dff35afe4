// Package fakegemini is a scripted fake of the Gemini API's generateContent
// endpoint for tend's tests and benchmark programs. The real client,
// google.golang.org/genai, talks to it over loopback HTTP: give it
// Server.URL as genai.HTTPOptions.BaseURL, or set GOOGLE_GEMINI_BASE_URL
// (genai reads it when BaseURL is empty), with Backend BackendGeminiAPI and
// any API key.
//
//	srv := fakegemini.New(t,
//		fakegemini.Call("read_file", map[string]any{"path": "README.md"}),
//		fakegemini.Expect(func(r fakegemini.Request) error {
//			if _, ok := r.FunctionResponse("read_file"); !ok {
//				return errors.New("no read_file response")
//			}
//			return nil
//		}, fakegemini.Text("done")),
//	)
//	client, _ := genai.NewClient(ctx, &genai.ClientConfig{
//		APIKey: "test-key", Backend: genai.BackendGeminiAPI,
//		HTTPOptions: genai.HTTPOptions{BaseURL: srv.URL()},
//	})
//
// # Script
//
// Each generateContent (or streamGenerateContent) request consumes the next
// Turn; a Turn sees the decoded Request and returns a Reply. Helpers build
// the common ones: Call, Calls, Text, Error, Blocked, FinishWith, Empty,
// Raw, Fixed, and the wrappers WithUsage, Delayed and Expect. Faults:
// QuotaExceeded and Unavailable answer 429 and 503 as Gemini words them,
// with or without a RetryInfo detail (WithRetryInfo adds one to any
// error); Truncated cuts an answer's JSON; Delayed outlasts a client's
// timeout (Request.Abandoned records that the client gave up, and an
// answer never read sets no echo expectation); Disconnect closes the
// connection without an answer. When the
// script runs out the fake answers 500 INTERNAL and records a violation.
// countTokens is answered (len(body)/4 tokens) without consuming a turn.
// Append adds turns while the server runs.
//
// # Checks
//
// Protocol problems are recorded as violations; New fails the test with
// them at cleanup (TakeViolations consumes expected ones) and also fails it
// for unused turns unless AllowLeftover was called. Start is the same
// without a testing.TB. The fake checks:
//
//   - the route (POST /{v1beta|v1|v1alpha}/models/{model}:{rpc}) and that
//     x-goog-api-key (or ?key=) is present; a missing key answers 403
//     without consuming a turn;
//   - the body decodes (else 400 INVALID_ARGUMENT in Google's shape, no
//     turn consumed) and has contents (else 400);
//   - function declarations: valid, unique names; not both parameters and
//     parametersJsonSchema;
//   - the conversation: roles are "user"/"model", it starts with the user
//     and ends with the user, no two model turns in a row, no empty parts,
//     function calls only in model turns, and every model functionCall is
//     answered in the next (user) content by a functionResponse with the
//     same name — and the same id when the call had one — with no extra
//     responses;
//   - the echo: after the fake answers function calls (finishReason STOP),
//     the next request must carry that model content as its last model
//     content, parts in order with their thoughtSignature bytes intact
//     ("Echo the model's content back"). A request with no model content
//     and no functionResponse starts a new conversation and is exempt;
//     errors and blocked replies leave the expectation in place, so a
//     retried request is checked the same way. RejectMissingSignatures
//     additionally answers a failed echo with 400, as Gemini 3 does;
//     The echo check follows one conversation at a time (requests are
//     answered in arrival order); interleaving several agents' conversations
//     on one Server makes it report false violations;
//   - the script itself: a reply calling a function the request does not
//     declare (or one toolConfig NONE / allowedFunctionNames forbids) is a
//     script bug, unless Reply.AllowUndeclared.
//
// Function-call parts get a random 48-byte thoughtSignature unless the
// Reply sets one, sets Unsigned, or SignFirstCallOnly (Google documents a
// signature on the first call of a parallel batch only).
//
// # Wire format (genai v1.77.0, Gemini Developer API backend)
//
// Request: POST {base}/v1beta/models/{model}:generateContent (the model
// gets a "models/" prefix unless it has one or starts "tunedModels/"),
// headers Content-Type: application/json, x-goog-api-key, user-agent and
// x-goog-api-client "google-genai-sdk/1.77.0 gl-go/...", and
// x-server-timeout (seconds) when a deadline or HTTPOptions.Timeout applies.
// Body: {"contents":[{"role","parts":[{"text"}|{"functionCall":{"id"?,
// "name","args"}}|{"functionResponse":{"id"?,"name","response"}},
// "thoughtSignature":base64]}], "systemInstruction":{"role":"user",
// "parts":[...]}, "tools":[{"functionDeclarations":[{"name","description",
// "parameters"|"parametersJsonSchema"}]}], "toolConfig":
// {"functionCallingConfig":{"mode","allowedFunctionNames"}},
// "generationConfig":{...}}. Streaming uses
// :streamGenerateContent?alt=sse and reads "data: {json}" events separated
// by blank lines. countTokens posts {"contents"} only (systemInstruction,
// tools and generationConfig are rejected client-side for this backend).
//
// Response: {"candidates":[{"content":{"role":"model","parts":[...]},
// "finishReason","finishMessage"?,"safetyRatings"?,"index"}],
// "promptFeedback":{"blockReason",...}?, "usageMetadata":
// {"promptTokenCount","candidatesTokenCount","thoughtsTokenCount"?,
// "totalTokenCount"}, "modelVersion", "responseId"}. genai copies the
// response headers into GenerateContentResponse.SDKHTTPResponse.Headers.
// GenerateContent also follows "continuationToken" on a candidate with an
// empty or CONTINUATION finish reason by re-sending the request
// (AutomaticContinuation, on by default); the fake never sends one.
//
// # Errors and retries in genai
//
// A non-2xx status becomes a genai.APIError value (not a pointer:
// errors.As(err, &apiErr) with var apiErr genai.APIError) holding the
// JSON body's error.code, error.message, error.status and error.details;
// a body that is not Google's error JSON gives Code = HTTP status, Status
// = the HTTP status line ("429 Too Many Requests") and Message = the raw
// body. APIError carries no response headers, so a Retry-After header is
// invisible to genai callers; Gemini states the delay in the body instead,
// as a detail {"@type":"type.googleapis.com/google.rpc.RetryInfo",
// "retryDelay":"7s"} — read it from APIError.Details. (A caller who needs
// the header must wrap ClientConfig.HTTPClient's Transport.) Error adds
// that detail whenever its headers carry Retry-After in seconds.
//
// A 200 body that is not JSON gives an ordinary error ("deserializeUnary
// Response: error unmarshalling response"), but valid JSON of the wrong
// shape — e.g. "candidates": "x" — makes genai v1.77.0 panic (an unchecked
// type assertion in generateContentResponseFromMldev). Code that must
// survive a misbehaving endpoint has to recover around GenerateContent.
//
// genai retries nothing by default: HTTPOptions.RetryOptions is nil, which
// means one attempt. Setting ClientConfig.HTTPOptions.RetryOptions (or
// GenerateContentConfig.HTTPOptions.RetryOptions per call, which replaces
// the client's wholesale) to &genai.HTTPRetryOptions{} turns retries on:
// 5 attempts in all, on transport errors and on 408, 429, 500, 502, 503,
// 504 (HTTPStatusCodes overrides the list), waiting
// min(InitialDelay·ExpBase^(n-1) + U(0,Jitter), MaxDelay) seconds —
// defaults 1, 2, 1, 60 — and ignoring Retry-After and RetryInfo. Attempts
// 1 (or leaving RetryOptions nil) turns them off. Each retry reaches the
// fake as a new request and consumes a turn.
package fakegemini
