package fakegemini

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Content is one turn of the conversation: a role ("user" or "model") and
// its parts.
type Content struct {
	Role  string
	Parts []Part
}

// Part is one part of a Content. In a request, exactly the fields the client
// sent are set; fields this package does not model (inlineData, fileData,
// executableCode, ...) are kept raw in Other. In a Reply, set Text or
// FunctionCall.
type Part struct {
	Text             string
	Thought          bool
	FunctionCall     *FunctionCall
	FunctionResponse *FunctionResponse
	// ThoughtSignature is the opaque signature the model attaches to a part
	// (sent base64-encoded as "thoughtSignature"). In a Reply, a nil
	// signature on a function-call part is filled with random bytes unless
	// Reply.Unsigned is set.
	ThoughtSignature []byte
	// Other holds the part's fields this package does not decode, raw.
	Other map[string]json.RawMessage
}

// FunctionCall is a call the model asks the client to make.
type FunctionCall struct {
	ID   string
	Name string
	Args map[string]any
}

// FunctionResponse is the client's answer to a FunctionCall.
type FunctionResponse struct {
	ID       string
	Name     string
	Response map[string]any
}

// FunctionDeclaration is one declared function (tools[].functionDeclarations[]).
type FunctionDeclaration struct {
	Name        string
	Description string
	// Parameters is the "parameters" schema (genai.Schema, OpenAPI subset)
	// as sent, or nil.
	Parameters json.RawMessage
	// ParametersJSONSchema is the "parametersJsonSchema" (plain JSON
	// Schema) as sent, or nil. The API accepts one of the two, not both.
	ParametersJSONSchema json.RawMessage
}

// ToolConfig is the request's toolConfig.functionCallingConfig.
type ToolConfig struct {
	Mode                 string // AUTO, ANY, NONE, VALIDATED or ""
	AllowedFunctionNames []string
}

// ---- request decoding ----

type wireRequest struct {
	Contents          []json.RawMessage `json:"contents"`
	SystemInstruction json.RawMessage   `json:"systemInstruction"`
	Tools             []wireTool        `json:"tools"`
	ToolConfig        *wireToolConfig   `json:"toolConfig"`
	GenerationConfig  map[string]any    `json:"generationConfig"`
}

type wireTool struct {
	FunctionDeclarations []wireDeclaration `json:"functionDeclarations"`
}

type wireDeclaration struct {
	Name                 string          `json:"name"`
	Description          string          `json:"description"`
	Parameters           json.RawMessage `json:"parameters"`
	ParametersJSONSchema json.RawMessage `json:"parametersJsonSchema"`
}

type wireToolConfig struct {
	FunctionCallingConfig *struct {
		Mode                 string   `json:"mode"`
		AllowedFunctionNames []string `json:"allowedFunctionNames"`
	} `json:"functionCallingConfig"`
}

type wireContentIn struct {
	Role  string            `json:"role"`
	Parts []json.RawMessage `json:"parts"`
}

type wireCallIn struct {
	ID   string         `json:"id"`
	Name string         `json:"name"`
	Args map[string]any `json:"args"`
}

type wireResponseIn struct {
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	Response json.RawMessage `json:"response"`
}

// decodeRequest fills req's decoded fields from req.Body. Problems that the
// real API would reject with 400 are returned as an error; softer problems
// (which a lenient decoder can still make sense of) are returned as notes.
func decodeRequest(req *Request) (notes []string, err error) {
	var w wireRequest
	dec := json.NewDecoder(bytes.NewReader(req.Body))
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("invalid JSON payload: %w", err)
	}
	if dec.More() {
		return nil, errors.New("invalid JSON payload: trailing data after the request object")
	}
	for i, raw := range w.Contents {
		c, n, err := decodeContent(raw)
		if err != nil {
			return nil, fmt.Errorf("contents[%d]: %w", i, err)
		}
		for _, s := range n {
			notes = append(notes, fmt.Sprintf("contents[%d].%s", i, s))
		}
		req.Contents = append(req.Contents, c)
	}
	if len(w.SystemInstruction) > 0 && string(w.SystemInstruction) != "null" {
		c, n, err := decodeContent(w.SystemInstruction)
		if err != nil {
			return nil, fmt.Errorf("systemInstruction: %w", err)
		}
		for _, s := range n {
			notes = append(notes, "systemInstruction."+s)
		}
		var texts []string
		for _, p := range c.Parts {
			if p.Text != "" {
				texts = append(texts, p.Text)
			}
		}
		req.System = strings.Join(texts, "\n")
	}
	for _, t := range w.Tools {
		for _, d := range t.FunctionDeclarations {
			req.Declarations = append(req.Declarations, FunctionDeclaration{
				Name:                 d.Name,
				Description:          d.Description,
				Parameters:           nonNull(d.Parameters),
				ParametersJSONSchema: nonNull(d.ParametersJSONSchema),
			})
			req.Tools = append(req.Tools, d.Name)
		}
	}
	if w.ToolConfig != nil && w.ToolConfig.FunctionCallingConfig != nil {
		req.ToolConfig = &ToolConfig{
			Mode:                 w.ToolConfig.FunctionCallingConfig.Mode,
			AllowedFunctionNames: w.ToolConfig.FunctionCallingConfig.AllowedFunctionNames,
		}
	}
	req.GenerationConfig = w.GenerationConfig
	return notes, nil
}

func nonNull(m json.RawMessage) json.RawMessage {
	if len(m) == 0 || string(m) == "null" {
		return nil
	}
	return m
}

func decodeContent(raw json.RawMessage) (Content, []string, error) {
	var wc wireContentIn
	if err := json.Unmarshal(raw, &wc); err != nil {
		return Content{}, nil, fmt.Errorf("not a Content object: %w", err)
	}
	c := Content{Role: wc.Role}
	var notes []string
	for j, rp := range wc.Parts {
		p, n, err := decodePart(rp)
		if err != nil {
			return Content{}, nil, fmt.Errorf("parts[%d]: %w", j, err)
		}
		for _, s := range n {
			notes = append(notes, fmt.Sprintf("parts[%d].%s", j, s))
		}
		c.Parts = append(c.Parts, p)
	}
	return c, notes, nil
}

func decodePart(raw json.RawMessage) (Part, []string, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return Part{}, nil, fmt.Errorf("not a Part object: %w", err)
	}
	var p Part
	var notes []string
	for k, v := range fields {
		switch k {
		case "text":
			if err := json.Unmarshal(v, &p.Text); err != nil {
				return Part{}, nil, fmt.Errorf("text: %w", err)
			}
		case "thought":
			if err := json.Unmarshal(v, &p.Thought); err != nil {
				return Part{}, nil, fmt.Errorf("thought: %w", err)
			}
		case "thoughtSignature":
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return Part{}, nil, fmt.Errorf("thoughtSignature: %w", err)
			}
			b, err := decodeBase64(s)
			if err != nil {
				return Part{}, nil, fmt.Errorf("thoughtSignature: %w", err)
			}
			p.ThoughtSignature = b
		case "functionCall":
			var fc wireCallIn
			if err := json.Unmarshal(v, &fc); err != nil {
				return Part{}, nil, fmt.Errorf("functionCall: %w", err)
			}
			p.FunctionCall = &FunctionCall{ID: fc.ID, Name: fc.Name, Args: fc.Args}
		case "functionResponse":
			var fr wireResponseIn
			if err := json.Unmarshal(v, &fr); err != nil {
				return Part{}, nil, fmt.Errorf("functionResponse: %w", err)
			}
			r := &FunctionResponse{ID: fr.ID, Name: fr.Name}
			if resp := nonNull(fr.Response); resp != nil {
				if err := json.Unmarshal(resp, &r.Response); err != nil {
					// The API wants a Struct (JSON object) here.
					notes = append(notes, fmt.Sprintf("functionResponse.response is not a JSON object: %s", truncate(string(resp), 80)))
				}
			}
			p.FunctionResponse = r
		default:
			if p.Other == nil {
				p.Other = map[string]json.RawMessage{}
			}
			p.Other[k] = v
		}
	}
	return p, notes, nil
}

// decodeBase64 accepts the standard and URL alphabets, padded or not (proto
// JSON parsers accept all four).
func decodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("not base64: %q", truncate(s, 40))
}

// ---- response encoding ----

type wireResponse struct {
	Candidates     []wireCandidate     `json:"candidates,omitempty"`
	PromptFeedback *wirePromptFeedback `json:"promptFeedback,omitempty"`
	UsageMetadata  *wireUsage          `json:"usageMetadata,omitempty"`
	ModelVersion   string              `json:"modelVersion,omitempty"`
	ResponseID     string              `json:"responseId,omitempty"`
}

type wireCandidate struct {
	Content       *wireContentOut `json:"content,omitempty"`
	FinishReason  string          `json:"finishReason,omitempty"`
	FinishMessage string          `json:"finishMessage,omitempty"`
	SafetyRatings []SafetyRating  `json:"safetyRatings,omitempty"`
	Index         int             `json:"index"`
}

type wireContentOut struct {
	Role  string        `json:"role,omitempty"`
	Parts []wirePartOut `json:"parts,omitempty"`
}

type wirePartOut struct {
	Text             string       `json:"text,omitempty"`
	Thought          bool         `json:"thought,omitempty"`
	FunctionCall     *wireCallOut `json:"functionCall,omitempty"`
	FunctionResponse *wireRespOut `json:"functionResponse,omitempty"`
	ThoughtSignature string       `json:"thoughtSignature,omitempty"`
}

type wireCallOut struct {
	ID   string         `json:"id,omitempty"`
	Name string         `json:"name"`
	Args map[string]any `json:"args"`
}

type wireRespOut struct {
	ID       string         `json:"id,omitempty"`
	Name     string         `json:"name"`
	Response map[string]any `json:"response"`
}

type wirePromptFeedback struct {
	BlockReason        string         `json:"blockReason,omitempty"`
	BlockReasonMessage string         `json:"blockReasonMessage,omitempty"`
	SafetyRatings      []SafetyRating `json:"safetyRatings,omitempty"`
}

type wireUsage struct {
	PromptTokenCount        int                 `json:"promptTokenCount,omitempty"`
	CandidatesTokenCount    int                 `json:"candidatesTokenCount,omitempty"`
	ThoughtsTokenCount      int                 `json:"thoughtsTokenCount,omitempty"`
	CachedContentTokenCount int                 `json:"cachedContentTokenCount,omitempty"`
	TotalTokenCount         int                 `json:"totalTokenCount,omitempty"`
	PromptTokensDetails     []wireModalityCount `json:"promptTokensDetails,omitempty"`
}

type wireModalityCount struct {
	Modality   string `json:"modality"`
	TokenCount int    `json:"tokenCount"`
}

func encodeParts(parts []Part) []wirePartOut {
	out := make([]wirePartOut, 0, len(parts))
	for _, p := range parts {
		w := wirePartOut{Text: p.Text, Thought: p.Thought}
		if p.FunctionCall != nil {
			args := p.FunctionCall.Args
			if args == nil {
				args = map[string]any{}
			}
			w.FunctionCall = &wireCallOut{ID: p.FunctionCall.ID, Name: p.FunctionCall.Name, Args: args}
		}
		if p.FunctionResponse != nil {
			resp := p.FunctionResponse.Response
			if resp == nil {
				resp = map[string]any{}
			}
			w.FunctionResponse = &wireRespOut{ID: p.FunctionResponse.ID, Name: p.FunctionResponse.Name, Response: resp}
		}
		if len(p.ThoughtSignature) > 0 {
			w.ThoughtSignature = base64.StdEncoding.EncodeToString(p.ThoughtSignature)
		}
		out = append(out, w)
	}
	return out
}

// googleError is Google's error body: {"error":{"code","message","status","details"}}.
type googleError struct {
	Error googleErrorBody `json:"error"`
}

type googleErrorBody struct {
	Code    int              `json:"code"`
	Message string           `json:"message"`
	Status  string           `json:"status"`
	Details []map[string]any `json:"details,omitempty"`
}

// canonicalStatus maps an HTTP status to the google.rpc.Code name Google
// puts in error.status.
func canonicalStatus(code int) string {
	switch code {
	case http.StatusBadRequest:
		return "INVALID_ARGUMENT"
	case http.StatusUnauthorized:
		return "UNAUTHENTICATED"
	case http.StatusForbidden:
		return "PERMISSION_DENIED"
	case http.StatusNotFound:
		return "NOT_FOUND"
	case http.StatusConflict:
		return "ABORTED"
	case http.StatusRequestEntityTooLarge:
		return "INVALID_ARGUMENT"
	case http.StatusTooManyRequests:
		return "RESOURCE_EXHAUSTED"
	case 499:
		return "CANCELLED"
	case http.StatusNotImplemented:
		return "UNIMPLEMENTED"
	case http.StatusServiceUnavailable:
		return "UNAVAILABLE"
	case http.StatusGatewayTimeout:
		return "DEADLINE_EXCEEDED"
	}
	switch {
	case code >= 500:
		return "INTERNAL"
	case code >= 400:
		return "FAILED_PRECONDITION"
	}
	return "UNKNOWN"
}

func errorJSON(code int, status, message string, details []map[string]any) []byte {
	if status == "" {
		status = canonicalStatus(code)
	}
	b, err := json.Marshal(googleError{Error: googleErrorBody{Code: code, Message: message, Status: status, Details: details}})
	if err != nil {
		// Details are caller-supplied; drop them rather than fail.
		b, _ = json.Marshal(googleError{Error: googleErrorBody{Code: code, Message: message, Status: status}})
	}
	return b
}

// normalize round-trips v through JSON so that values compare the way they
// look on the wire (numbers become float64, structs become maps).
func normalize(v map[string]any) map[string]any {
	if v == nil {
		return map[string]any{}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil || out == nil {
		return map[string]any{}
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
