package fakegithub

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// GitHub's description rarely says additionalProperties: false, and GitHub
// silently ignores body fields it doesn't know — so a misspelt or
// misplaced field (say "labels" on pulls/create) would pass schema
// validation and do nothing. unknownBodyFields finds the fields the
// operation's schema doesn't declare; the Server reports them as violations
// (WithLenientBodies turns this off) and, like GitHub, ignores them.

// unknownBodyFields lists JSON pointers of body fields the operation's
// request schema does not declare.
func unknownBodyFields(op *openapi3.Operation, body []byte) []string {
	if op.RequestBody == nil || op.RequestBody.Value == nil || len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	mt := op.RequestBody.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil
	}
	var out []string
	walkUnknown(mt.Schema.Value, v, "", &out, 0)
	sort.Strings(out)
	return out
}

// objectShape is what an object schema (with its compositions) declares.
type objectShape struct {
	props map[string]*openapi3.Schema
	open  bool // any property is allowed
}

func shapeOf(s *openapi3.Schema, shape *objectShape, depth int) {
	if s == nil || depth > 20 {
		shape.open = true
		return
	}
	for name, p := range s.Properties {
		if p != nil && p.Value != nil {
			if _, dup := shape.props[name]; !dup {
				shape.props[name] = p.Value
			}
		}
	}
	ap := s.AdditionalProperties
	if (ap.Has != nil && *ap.Has) || ap.Schema != nil {
		shape.open = true
	}
	composed := len(s.OneOf) + len(s.AnyOf) + len(s.AllOf)
	if len(s.Properties) == 0 && composed == 0 && ap.Has == nil {
		// A free-form object ("type: object" and nothing else).
		shape.open = true
	}
	for _, group := range []openapi3.SchemaRefs{s.OneOf, s.AnyOf, s.AllOf} {
		for _, r := range group {
			if r == nil || r.Value == nil {
				continue
			}
			// Variants that are not objects (strings, arrays) declare no
			// properties and don't open the object either.
			if r.Value.Type != nil && !r.Value.Type.Includes(openapi3.TypeObject) {
				continue
			}
			shapeOf(r.Value, shape, depth+1)
		}
	}
}

func itemsOf(s *openapi3.Schema, depth int) *openapi3.Schema {
	if s == nil || depth > 20 {
		return nil
	}
	if s.Items != nil && s.Items.Value != nil {
		return s.Items.Value
	}
	for _, group := range []openapi3.SchemaRefs{s.OneOf, s.AnyOf, s.AllOf} {
		for _, r := range group {
			if r != nil && r.Value != nil {
				if it := itemsOf(r.Value, depth+1); it != nil {
					return it
				}
			}
		}
	}
	return nil
}

func walkUnknown(s *openapi3.Schema, v any, ptr string, out *[]string, depth int) {
	if s == nil || depth > 30 {
		return
	}
	switch val := v.(type) {
	case map[string]any:
		shape := objectShape{props: map[string]*openapi3.Schema{}}
		shapeOf(s, &shape, 0)
		for k, x := range val {
			p, ok := shape.props[k]
			if !ok {
				if !shape.open {
					*out = append(*out, ptr+"/"+escapePointer(k))
				}
				continue
			}
			walkUnknown(p, x, ptr+"/"+escapePointer(k), out, depth+1)
		}
	case []any:
		it := itemsOf(s, 0)
		for i, x := range val {
			walkUnknown(it, x, ptr+"/"+itoa(i), out, depth+1)
		}
	}
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
