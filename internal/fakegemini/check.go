package fakegemini

import (
	"bytes"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
)

// functionName is the API's rule for FunctionDeclaration.name.
var functionName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$`)

// validateDeclarations checks the declared functions the way the API does.
func validateDeclarations(decls []FunctionDeclaration) []string {
	var out []string
	seen := map[string]bool{}
	for i, d := range decls {
		switch {
		case d.Name == "":
			out = append(out, fmt.Sprintf("functionDeclarations[%d] has no name", i))
		case !functionName.MatchString(d.Name):
			out = append(out, fmt.Sprintf("function name %q is invalid (letters, digits, _ . : -, starting with a letter or _, at most 128)", d.Name))
		case seen[d.Name]:
			out = append(out, fmt.Sprintf("function %q is declared twice", d.Name))
		}
		seen[d.Name] = true
		if d.Parameters != nil && d.ParametersJSONSchema != nil {
			out = append(out, fmt.Sprintf("function %q sets both parameters and parametersJsonSchema (mutually exclusive)", d.Name))
		}
	}
	return out
}

// validateConversation checks roles and the pairing of function calls and
// responses across the whole conversation.
func validateConversation(contents []Content) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	for i, c := range contents {
		switch c.Role {
		case "user", "model":
		case "":
			if len(contents) > 1 {
				add("contents[%d] has no role (multi-turn requests need \"user\" or \"model\")", i)
			}
		default:
			add("contents[%d].role is %q, want \"user\" or \"model\"", i, c.Role)
		}
		if len(c.Parts) == 0 {
			add("contents[%d] (%s) has no parts", i, roleName(c.Role))
		}
		for j, p := range c.Parts {
			if p.FunctionCall != nil && c.Role != "model" {
				add("contents[%d].parts[%d]: functionCall %s in a %s content (only the model calls functions)", i, j, p.FunctionCall.Name, roleName(c.Role))
			}
			if p.FunctionCall != nil && p.FunctionCall.Name == "" {
				add("contents[%d].parts[%d]: functionCall without a name", i, j)
			}
			if p.FunctionResponse != nil && c.Role == "model" {
				add("contents[%d].parts[%d]: functionResponse %s in a model content (function responses are the user's)", i, j, p.FunctionResponse.Name)
			}
			if p.FunctionResponse != nil && p.FunctionResponse.Name == "" {
				add("contents[%d].parts[%d]: functionResponse without a name", i, j)
			}
			if p.Text == "" && p.FunctionCall == nil && p.FunctionResponse == nil && len(p.Other) == 0 && len(p.ThoughtSignature) == 0 {
				add("contents[%d].parts[%d] is empty (a part needs text, functionCall, functionResponse, inlineData, ...)", i, j)
			}
		}
	}
	if len(contents) > 0 {
		if contents[0].Role == "model" {
			add("the conversation starts with a model turn")
		}
		if last := contents[len(contents)-1]; last.Role == "model" {
			add("the request ends with a model turn; the last content should be the user's")
		}
	}
	for i := 1; i < len(contents); i++ {
		if contents[i].Role == "model" && contents[i-1].Role == "model" {
			add("contents[%d] and contents[%d] are both model turns", i-1, i)
		}
	}
	for i, c := range contents {
		calls := callsOf(c)
		if c.Role == "model" && len(calls) > 0 {
			if i+1 == len(contents) {
				add("contents[%d]: functionCall %s is not answered (nothing follows it)", i, callNames(calls))
				continue
			}
			next := contents[i+1]
			if next.Role != "user" {
				add("contents[%d]: functionCall %s is followed by a %s content, want the user's functionResponse", i, callNames(calls), roleName(next.Role))
				continue
			}
			out = append(out, matchResponses(i, calls, i+1, responsesOf(next))...)
		}
		if resps := responsesOf(c); len(resps) > 0 && c.Role != "model" {
			if i == 0 || contents[i-1].Role != "model" || len(callsOf(contents[i-1])) == 0 {
				names := make([]string, len(resps))
				for k, r := range resps {
					names[k] = r.Name
				}
				add("contents[%d]: functionResponse %s does not follow a model functionCall", i, strings.Join(names, ", "))
			}
		}
	}
	return out
}

// matchResponses pairs calls with responses by name, and by id when the
// call has one. Order does not matter (the API pairs parallel calls by name
// and id).
func matchResponses(ci int, calls []FunctionCall, ri int, resps []FunctionResponse) []string {
	var out []string
	used := make([]bool, len(resps))
	for _, c := range calls {
		found := false
		for k, r := range resps {
			if used[k] || r.Name != c.Name || (c.ID != "" && r.ID != c.ID) {
				continue
			}
			used[k], found = true, true
			break
		}
		if !found {
			out = append(out, fmt.Sprintf("functionCall %s in contents[%d] has no functionResponse with the same name%s in contents[%d]",
				c.Name, ci, idNote(c.ID), ri))
		}
	}
	for k, r := range resps {
		if !used[k] {
			out = append(out, fmt.Sprintf("functionResponse %s%s in contents[%d] answers no functionCall of contents[%d]",
				r.Name, idNote(r.ID), ri, ci))
		}
	}
	return out
}

func idNote(id string) string {
	if id == "" {
		return ""
	}
	return fmt.Sprintf(" (id %q)", id)
}

func roleName(role string) string {
	if role == "" {
		return "role-less"
	}
	return role
}

func callsOf(c Content) []FunctionCall {
	var out []FunctionCall
	for _, p := range c.Parts {
		if p.FunctionCall != nil {
			out = append(out, *p.FunctionCall)
		}
	}
	return out
}

func responsesOf(c Content) []FunctionResponse {
	var out []FunctionResponse
	for _, p := range c.Parts {
		if p.FunctionResponse != nil {
			out = append(out, *p.FunctionResponse)
		}
	}
	return out
}

func callNames(calls []FunctionCall) string {
	names := make([]string, len(calls))
	for i, c := range calls {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

// isFresh reports whether contents start a new conversation: no model turn
// and no function response anywhere.
func isFresh(contents []Content) bool {
	for _, c := range contents {
		if c.Role == "model" || len(responsesOf(c)) > 0 {
			return false
		}
	}
	return true
}

// checkEcho verifies that the request carries, as its last model content,
// the model turn with function calls the fake answered last, parts and
// thought signatures intact. A fresh conversation (see isFresh) is
// exempt. It runs under serveMu.
func (s *Server) checkEcho(req *Request) []string {
	p := s.pending
	if p == nil {
		return nil
	}
	if isFresh(req.Contents) {
		s.pending = nil
		return nil
	}
	what := fmt.Sprintf("the model turn answered to request #%d (functionCall %s)", p.request, callNames(callsOf(Content{Parts: p.parts})))
	m := -1
	for i, c := range req.Contents {
		if c.Role == "model" {
			m = i
		}
	}
	if m < 0 {
		return []string{what + " is not echoed: the request has no model content"}
	}
	diffs := compareParts(p.parts, req.Contents[m].Parts)
	if len(diffs) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("%s is not echoed intact as the last model content (contents[%d]): %s", what, m, strings.Join(diffs, "; "))}
}

// compareParts lists how got differs from the parts the fake sent.
func compareParts(want, got []Part) []string {
	var out []string
	if len(got) != len(want) {
		out = append(out, fmt.Sprintf("%d part(s), want %d", len(got), len(want)))
	}
	for i := range min(len(want), len(got)) {
		w, g := want[i], got[i]
		label := fmt.Sprintf("part %d", i)
		if w.FunctionCall != nil {
			label = fmt.Sprintf("part %d (functionCall %s)", i, w.FunctionCall.Name)
		}
		switch {
		case w.FunctionCall != nil && g.FunctionCall == nil:
			out = append(out, label+": not a functionCall")
		case w.FunctionCall == nil && g.FunctionCall != nil:
			out = append(out, fmt.Sprintf("%s: unexpected functionCall %s", label, g.FunctionCall.Name))
		case w.FunctionCall != nil:
			if g.FunctionCall.Name != w.FunctionCall.Name {
				out = append(out, fmt.Sprintf("%s: name %q", label, g.FunctionCall.Name))
			}
			if g.FunctionCall.ID != w.FunctionCall.ID {
				out = append(out, fmt.Sprintf("%s: id %q, want %q", label, g.FunctionCall.ID, w.FunctionCall.ID))
			}
			if !reflect.DeepEqual(normalize(g.FunctionCall.Args), w.FunctionCall.Args) {
				out = append(out, label+": args differ")
			}
		}
		if g.Text != w.Text {
			out = append(out, fmt.Sprintf("%s: text %q, want %q", label, truncate(g.Text, 40), truncate(w.Text, 40)))
		}
		if g.Thought != w.Thought {
			out = append(out, fmt.Sprintf("%s: thought=%v, want %v", label, g.Thought, w.Thought))
		}
		switch {
		case len(w.ThoughtSignature) > 0 && len(g.ThoughtSignature) == 0:
			out = append(out, label+": thoughtSignature missing")
		case len(w.ThoughtSignature) > 0 && !bytes.Equal(w.ThoughtSignature, g.ThoughtSignature):
			out = append(out, label+": thoughtSignature altered")
		case len(w.ThoughtSignature) == 0 && len(g.ThoughtSignature) > 0:
			out = append(out, label+": thoughtSignature the model never sent")
		}
	}
	return out
}

// checkReplyCalls reports script bugs: calling a function the request does
// not declare, or one toolConfig forbids.
func (s *Server) checkReplyCalls(req *Request, rep Reply, parts []Part, violate func(string, ...any)) {
	calls := callsOf(Content{Parts: parts})
	for _, c := range calls {
		if !rep.AllowUndeclared && !slices.Contains(req.Tools, c.Name) {
			violate("script bug: the reply calls %q, which the request does not declare (declared: %s)", c.Name, declaredList(req.Tools))
		}
	}
	tc := req.ToolConfig
	if tc == nil || rep.AllowUndeclared {
		return
	}
	switch tc.Mode {
	case "NONE":
		if len(calls) > 0 {
			violate("script bug: the reply calls %s but toolConfig mode is NONE", callNames(calls))
		}
	case "ANY", "VALIDATED":
		if tc.Mode == "ANY" && len(calls) == 0 && rep.FinishReason == "" {
			violate("script bug: toolConfig mode ANY forces a function call but the reply has none")
		}
		if len(tc.AllowedFunctionNames) > 0 {
			for _, c := range calls {
				if !slices.Contains(tc.AllowedFunctionNames, c.Name) {
					violate("script bug: the reply calls %q outside toolConfig allowedFunctionNames %v", c.Name, tc.AllowedFunctionNames)
				}
			}
		}
	}
}

func declaredList(tools []string) string {
	if len(tools) == 0 {
		return "none"
	}
	return strings.Join(tools, ", ")
}
