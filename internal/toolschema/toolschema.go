package toolschema

import (
	"fmt"
	"reflect"
	"strings"

	"google.golang.org/genai"
)

// Of returns the parameters schema of params, a struct value: an object
// with one property per exported field that has a json tag, in field
// order; embedded structs add their fields. Fields tagged omitempty are
// optional, the others required. Strings, integers, floats and booleans
// are the types a parameter may have.
func Of(params any) (*genai.Schema, error) {
	s := &genai.Schema{Type: genai.TypeObject, Properties: map[string]*genai.Schema{}}
	if err := addFields(s, reflect.TypeOf(params)); err != nil {
		return nil, err
	}
	return s, nil
}

// MustOf is Of for the fixed declarations of a program: a struct it
// cannot describe is a programming error, found by the first test.
func MustOf(params any) *genai.Schema {
	s, err := Of(params)
	if err != nil {
		panic(err)
	}
	return s
}

// Names returns the parameter names of a schema from Of, in order.
func Names(s *genai.Schema) []string {
	return append([]string(nil), s.PropertyOrdering...)
}

func addFields(s *genai.Schema, t reflect.Type) error {
	if t == nil || t.Kind() != reflect.Struct {
		return fmt.Errorf("toolschema: parameters must be a struct, not %v", t)
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			if err := addFields(s, f.Type); err != nil {
				return err
			}
			continue
		}
		tag, ok := f.Tag.Lookup("json")
		if !ok || !f.IsExported() || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		typ, ok := schemaType(f.Type.Kind())
		if !ok || name == "" {
			return fmt.Errorf("toolschema: field %s.%s (%v, json %q) cannot be a parameter", t.Name(), f.Name, f.Type, tag)
		}
		if _, dup := s.Properties[name]; dup {
			return fmt.Errorf("toolschema: parameter %q is declared twice in %s", name, t.Name())
		}
		s.Properties[name] = &genai.Schema{Type: typ, Description: f.Tag.Get("description")}
		s.PropertyOrdering = append(s.PropertyOrdering, name)
		if !strings.Contains(","+opts+",", ",omitempty,") {
			s.Required = append(s.Required, name)
		}
	}
	return nil
}

func schemaType(k reflect.Kind) (genai.Type, bool) {
	switch k {
	case reflect.String:
		return genai.TypeString, true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return genai.TypeInteger, true
	case reflect.Float32, reflect.Float64:
		return genai.TypeNumber, true
	case reflect.Bool:
		return genai.TypeBoolean, true
	}
	return "", false
}
