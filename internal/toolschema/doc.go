// Package toolschema declares the parameters of a model's tool from a Go
// struct, so that the names a tool accepts and the schema the model is
// shown come from one place. A field's json tag names the parameter (with
// omitempty when it is optional) and its description tag describes it.
package toolschema
