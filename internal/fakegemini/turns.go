package fakegemini

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// A Turn answers one generateContent (or streamGenerateContent) request. It
// sees the decoded request — for instance the function response the agent
// just sent back — and decides the reply. Turns are called one at a time, in
// script order.
type Turn func(req Request) Reply

// Reply is what a Turn answers. The zero Reply is a 200 with one candidate
// that has an empty model content and finishReason STOP (see Empty).
//
// A Reply is, in order of precedence:
//   - Raw: Body is sent verbatim with Status (default 200);
//   - an error: Status >= 300; the body is Google's error JSON built from
//     ErrorMessage, ErrorStatus and ErrorDetails;
//   - blocked: NoCandidate; only promptFeedback (BlockReason...) and usage;
//   - a candidate: Parts, FinishReason, FinishMessage, SafetyRatings.
type Reply struct {
	// Parts of the model's content: text and/or function calls.
	Parts []Part
	// FinishReason defaults to STOP.
	FinishReason  string
	FinishMessage string
	// OmitContent leaves "content" out of the candidate altogether. By
	// default a candidate carries {"role":"model","parts":[...]}; a
	// FinishWith with no parts sends "content":{} as the API does for
	// MALFORMED_FUNCTION_CALL.
	OmitContent bool
	// EmptyContent sends "content":{} (no role, no parts).
	EmptyContent bool
	// SafetyRatings go on the candidate, or on promptFeedback when
	// NoCandidate is set.
	SafetyRatings []SafetyRating

	// NoCandidate answers without candidates (a blocked prompt).
	NoCandidate        bool
	BlockReason        string
	BlockReasonMessage string

	// Usage overrides the estimated usage metadata; nil estimates it
	// (prompt = len(request body)/4, output = len(reply parts)/4).
	Usage *Usage
	// ModelVersion defaults to the model named in the URL.
	ModelVersion string
	// ResponseID defaults to a random id.
	ResponseID string

	// Status is the HTTP status; 0 means 200.
	Status int
	// Header holds extra response headers (e.g. Retry-After).
	Header map[string]string
	// ErrorMessage, ErrorStatus (google.rpc.Code name; derived from Status
	// when empty) and ErrorDetails make the error body when Status >= 300.
	ErrorMessage string
	ErrorStatus  string
	ErrorDetails []map[string]any

	// Raw sends Body verbatim (with Status, default 200) instead of JSON.
	Raw  bool
	Body string

	// Delay holds the answer back this long (or until the client gives up
	// or the server closes), for timeout tests. An answer the client gave
	// up on sets no echo expectation.
	Delay time.Duration
	// Truncate sends only the first Truncate bytes of the body (with a
	// Content-Length that matches them), as a proxy or a cut stream would:
	// the client reads a complete HTTP answer holding broken JSON. A
	// truncated answer sets no echo expectation.
	Truncate int
	// Disconnect closes the connection without an answer (after Delay), as
	// a crashed frontend does: the client sees a transport error (EOF).
	Disconnect bool

	// Unsigned leaves function-call parts without a thoughtSignature
	// (older models, or to test clients that cope with none).
	Unsigned bool
	// SignFirstCallOnly signs only the first function-call part, as Google
	// documents for parallel calls; by default every call is signed.
	SignFirstCallOnly bool
	// AllowUndeclared lets the reply call functions the request did not
	// declare (to test how the agent handles a hallucinated tool) without
	// recording a violation.
	AllowUndeclared bool

	// Violations are recorded against the request (Expect uses this).
	Violations []string
}

// Usage is usageMetadata. Total 0 means Prompt+Candidates+Thoughts.
type Usage struct {
	Prompt, Candidates, Thoughts, Cached, Total int
}

// SafetyRating is one entry of safetyRatings.
type SafetyRating struct {
	Category    string `json:"category"`
	Probability string `json:"probability"`
	Blocked     bool   `json:"blocked,omitempty"`
}

// Call answers with one function call (no id, as the Gemini Developer API
// sends them today).
func Call(name string, args map[string]any) Turn {
	return Calls(FunctionCall{Name: name, Args: args})
}

// Calls answers with parallel function calls in one model turn. Set ID on a
// call to make the fake require the same id on its functionResponse.
func Calls(calls ...FunctionCall) Turn {
	parts := make([]Part, 0, len(calls))
	for _, c := range calls {
		c.Args = cloneMap(c.Args)
		parts = append(parts, Part{FunctionCall: &c})
	}
	return func(Request) Reply { return Reply{Parts: clonePartsShallow(parts)} }
}

// Text answers with plain text and finishReason STOP.
func Text(s string) Turn {
	return func(Request) Reply { return Reply{Parts: []Part{{Text: s}}} }
}

// Fixed answers with r as it is, whatever the request.
func Fixed(r Reply) Turn {
	return func(Request) Reply { return r }
}

// Error answers with an HTTP error in Google's shape
// {"error":{"code":status,"message":message,"status":"RESOURCE_EXHAUSTED"}}.
// headers are sent as given (e.g. "Retry-After": "7"). When headers carry a
// Retry-After in seconds, the body also carries the delay the way Gemini
// itself sends it: a google.rpc.RetryInfo detail {"retryDelay": "7s"} —
// genai exposes that in APIError.Details, but not the header.
func Error(status int, headers map[string]string, message string) Turn {
	if message == "" {
		message = defaultErrorMessage(status)
	}
	var details []map[string]any
	for k, v := range headers {
		if http.CanonicalHeaderKey(k) != "Retry-After" {
			continue
		}
		if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && secs >= 0 {
			details = append(details, retryInfo(time.Duration(secs)*time.Second))
		}
	}
	h := cloneStrings(headers)
	return func(Request) Reply {
		return Reply{Status: status, Header: h, ErrorMessage: message, ErrorDetails: details}
	}
}

// QuotaExceeded answers like the Gemini API when a quota is spent: 429
// RESOURCE_EXHAUSTED with the QuotaFailure and Help details it sends and,
// when retryDelay > 0, the RetryInfo detail saying when to call again
// (the delay also ends the message, "Please retry in 7.5s.", as Gemini
// words it).
func QuotaExceeded(retryDelay time.Duration) Turn {
	msg := "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n" +
		"* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_paid_tier_input_token_count, limit: 1000000"
	details := []map[string]any{
		{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []any{map[string]any{
			"quotaMetric":     "generativelanguage.googleapis.com/generate_content_paid_tier_input_token_count",
			"quotaId":         "GenerateContentPaidTierInputTokensPerModelPerMinute",
			"quotaDimensions": map[string]any{"location": "global", "model": "gemini-2.5-flash"},
			"quotaValue":      "1000000",
		}}},
		{"@type": "type.googleapis.com/google.rpc.Help", "links": []any{map[string]any{
			"description": "Learn more about Gemini API quotas", "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
		}}},
	}
	if retryDelay > 0 {
		msg += fmt.Sprintf("\nPlease retry in %s.", durationJSON(retryDelay))
		details = append(details, retryInfo(retryDelay))
	}
	return func(Request) Reply {
		return Reply{Status: http.StatusTooManyRequests, ErrorMessage: msg, ErrorDetails: cloneDetails(details)}
	}
}

// Unavailable answers 503 UNAVAILABLE "The model is overloaded" as Gemini
// does under load; retryDelay > 0 adds a RetryInfo detail.
func Unavailable(retryDelay time.Duration) Turn {
	var details []map[string]any
	if retryDelay > 0 {
		details = append(details, retryInfo(retryDelay))
	}
	return func(Request) Reply {
		return Reply{Status: http.StatusServiceUnavailable, ErrorDetails: cloneDetails(details)}
	}
}

// WithRetryInfo adds a google.rpc.RetryInfo detail with retryDelay d to
// the error t answers (a success is left alone).
func WithRetryInfo(d time.Duration, t Turn) Turn {
	return func(req Request) Reply {
		r := t(req)
		if r.Status >= 300 && !r.Raw {
			r.ErrorDetails = append(cloneDetails(r.ErrorDetails), retryInfo(d))
		}
		return r
	}
}

// Truncated sends only the first n bytes of t's answer (half of it when
// n <= 0): a complete HTTP answer whose JSON is cut off.
func Truncated(n int, t Turn) Turn {
	return func(req Request) Reply {
		r := t(req)
		r.Truncate = n
		if n <= 0 {
			r.Truncate = -1 // half, decided once the body is rendered
		}
		return r
	}
}

// Disconnect closes the connection without answering.
func Disconnect() Turn {
	return func(Request) Reply { return Reply{Disconnect: true} }
}

// retryInfo is the google.rpc.RetryInfo detail for d.
func retryInfo(d time.Duration) map[string]any {
	return map[string]any{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": durationJSON(d)}
}

// durationJSON formats d the way protobuf's JSON mapping writes a
// google.protobuf.Duration: seconds with 0, 3, 6 or 9 fractional digits
// and an "s" ("7s", "0.300s").
func durationJSON(d time.Duration) string {
	secs, nanos := int64(d/time.Second), int64(d%time.Second)
	switch {
	case nanos == 0:
		return fmt.Sprintf("%ds", secs)
	case nanos%1e6 == 0:
		return fmt.Sprintf("%d.%03ds", secs, nanos/1e6)
	case nanos%1e3 == 0:
		return fmt.Sprintf("%d.%06ds", secs, nanos/1e3)
	}
	return fmt.Sprintf("%d.%09ds", secs, nanos)
}

func cloneDetails(ds []map[string]any) []map[string]any {
	if ds == nil {
		return nil
	}
	out := make([]map[string]any, len(ds))
	for i, d := range ds {
		out[i] = cloneMap(d)
	}
	return out
}

func defaultErrorMessage(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "Resource has been exhausted (e.g. check quota)."
	case http.StatusServiceUnavailable:
		return "The model is overloaded. Please try again later."
	case http.StatusInternalServerError:
		return "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"
	case http.StatusGatewayTimeout:
		return "The request timed out. Please try again."
	}
	return http.StatusText(status)
}

// Blocked answers like a blocked prompt: no candidates and
// promptFeedback.blockReason = reason (SAFETY, OTHER, BLOCKLIST,
// PROHIBITED_CONTENT, IMAGE_SAFETY).
func Blocked(reason string) Turn {
	var ratings []SafetyRating
	if reason == "SAFETY" {
		ratings = []SafetyRating{{Category: "HARM_CATEGORY_DANGEROUS_CONTENT", Probability: "HIGH", Blocked: true}}
	}
	return func(Request) Reply {
		return Reply{NoCandidate: true, BlockReason: reason, SafetyRatings: ratings}
	}
}

// FinishWith answers with one candidate that finished for reason (SAFETY,
// MAX_TOKENS, MALFORMED_FUNCTION_CALL, RECITATION, UNEXPECTED_TOOL_CALL,
// ...) carrying parts, possibly none. With no parts the candidate's content
// is {} as Gemini sends it.
func FinishWith(reason string, parts ...Part) Turn {
	var ratings []SafetyRating
	if reason == "SAFETY" {
		ratings = []SafetyRating{{Category: "HARM_CATEGORY_HARASSMENT", Probability: "HIGH", Blocked: true}}
	}
	return func(Request) Reply {
		return Reply{
			Parts:         clonePartsShallow(parts),
			FinishReason:  reason,
			EmptyContent:  len(parts) == 0,
			SafetyRatings: ratings,
		}
	}
}

// Empty answers with one candidate whose content has no parts
// ({"role":"model"}) and finishReason STOP.
func Empty() Turn {
	return func(Request) Reply { return Reply{} }
}

// Raw answers with status and body verbatim (malformed JSON, HTML from a
// proxy, ...), Content-Type application/json.
func Raw(status int, body string) Turn {
	return func(Request) Reply { return Reply{Raw: true, Status: status, Body: body} }
}

// WithUsage overrides the usage metadata t answers with.
func WithUsage(t Turn, prompt, candidates int) Turn {
	return func(req Request) Reply {
		r := t(req)
		r.Usage = &Usage{Prompt: prompt, Candidates: candidates}
		return r
	}
}

// Delayed holds t's answer back for d (the client's deadline still applies).
func Delayed(d time.Duration, t Turn) Turn {
	return func(req Request) Reply {
		r := t(req)
		r.Delay = d
		return r
	}
}

// Expect runs check on the request before t answers it; an error is recorded
// as a violation (and fails the test at cleanup under New).
func Expect(check func(Request) error, t Turn) Turn {
	return func(req Request) Reply {
		var problem string
		if err := check(req); err != nil {
			problem = fmt.Sprintf("expectation failed: %v", err)
		}
		r := t(req)
		if problem != "" {
			r.Violations = append(r.Violations, problem)
		}
		return r
	}
}

func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func cloneStrings(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// clonePartsShallow copies parts and the FunctionCall structs they point to,
// so that the server filling in signatures never edits a script's parts.
func clonePartsShallow(parts []Part) []Part {
	if parts == nil {
		return nil
	}
	out := make([]Part, len(parts))
	for i, p := range parts {
		if p.FunctionCall != nil {
			fc := *p.FunctionCall
			p.FunctionCall = &fc
		}
		if p.ThoughtSignature != nil {
			p.ThoughtSignature = append([]byte(nil), p.ThoughtSignature...)
		}
		out[i] = p
	}
	return out
}
