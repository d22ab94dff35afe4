package worktree

import (
	"fmt"
	"strings"

	"google.golang.org/genai"
)

// Declarations returns the six file tools for genai.Tool.FunctionDeclarations.
// The descriptions name the run's writable paths so the model need not
// discover them by trial.
func (t *Tree) Declarations() []*genai.FunctionDeclaration {
	str := func(desc string) *genai.Schema { return &genai.Schema{Type: genai.TypeString, Description: desc} }
	integer := func(desc string) *genai.Schema { return &genai.Schema{Type: genai.TypeInteger, Description: desc} }
	obj := func(required []string, order []string, props map[string]*genai.Schema) *genai.Schema {
		return &genai.Schema{Type: genai.TypeObject, Properties: props, Required: required, PropertyOrdering: order}
	}
	pathDesc := "File path relative to the repository root, with / separators (e.g. \"docs/intro.md\"). No leading /, no \"..\"."
	writable := t.writableDescription()
	return []*genai.FunctionDeclaration{
		{
			Name: ToolListFiles,
			Description: fmt.Sprintf("List files in the repository (as it stands in this run, including your own writes). "+
				"With path: the entries directly inside that directory (subdirectories end in /); no path means the repository root. "+
				"With glob: every file matching the glob (doublestar syntax: * stays within a directory, ** crosses directories, e.g. \"**/*.go\" or \"docs/**/*.md\"); "+
				"given both, the glob is relative to path. Returns one path per line, at most %d; symbolic links and submodules are marked.", t.pol.MaxListResults),
			Parameters: obj(nil, []string{"path", "glob"}, map[string]*genai.Schema{
				"path": str("Directory relative to the repository root. Optional; default: the root."),
				"glob": str("Glob pattern to match file paths against. Optional."),
			}),
		},
		{
			Name: ToolReadFile,
			Description: fmt.Sprintf("Read a text file. Returns the file's exact text in \"output\" (no line numbers added), "+
				"with start_line, end_line and total_lines; at most %d bytes per call, and a note says how to continue when there is more. "+
				"Use offset and limit to read part of a large file. Binary files, symbolic links and submodules cannot be read.", t.pol.MaxReadBytes),
			Parameters: obj([]string{"path"}, []string{"path", "offset", "limit"}, map[string]*genai.Schema{
				"path":   str(pathDesc),
				"offset": integer("First line to return, 1-based. Optional; default 1."),
				"limit":  integer("Maximum number of lines to return. Optional; default: as many as fit."),
			}),
		},
		{
			Name: ToolSearch,
			Description: fmt.Sprintf("Search file contents with a regular expression (Go RE2 syntax, matched against each line; prefix (?i) to ignore case). "+
				"Returns matching lines as \"path:line: text\", at most %d, long lines shortened. Binary files and files over %d bytes are skipped. "+
				"Restrict the files with glob to search faster and wider.", t.pol.MaxSearchResults, t.pol.MaxFileBytes),
			Parameters: obj([]string{"pattern"}, []string{"pattern", "glob"}, map[string]*genai.Schema{
				"pattern": str("Regular expression, e.g. \"func [A-Z]\\\\w*\\\\(\" or \"(?i)todo\"."),
				"glob":    str("Only search files whose path matches this glob (doublestar syntax, e.g. \"**/*.yaml\"). Optional."),
			}),
		},
		{
			Name: ToolWriteFile,
			Description: fmt.Sprintf("Create a file or replace its whole content. Prefer edit_file for changing part of an existing file. "+
				"%s At most %d bytes per file and %d changed files in total.", writable, t.pol.MaxFileBytes, t.pol.MaxFiles),
			Parameters: obj([]string{"path", "content"}, []string{"path", "content"}, map[string]*genai.Schema{
				"path":    str(pathDesc),
				"content": str("The complete new content of the file."),
			}),
		},
		{
			Name: ToolEditFile,
			Description: "Replace one exact piece of text in an existing file. old_text must appear exactly once in the file, " +
				"character for character including whitespace and indentation (copy it from read_file's output); include enough surrounding lines to make it unique. " +
				"To make several changes, call edit_file several times. " + writable,
			Parameters: obj([]string{"path", "old_text", "new_text"}, []string{"path", "old_text", "new_text"}, map[string]*genai.Schema{
				"path":     str(pathDesc),
				"old_text": str("The exact text to replace; must occur exactly once."),
				"new_text": str("The text to put in its place (may be empty to remove old_text)."),
			}),
		},
		{
			Name:        ToolDeleteFile,
			Description: "Delete a file. " + writable,
			Parameters: obj([]string{"path"}, []string{"path"}, map[string]*genai.Schema{
				"path": str(pathDesc),
			}),
		},
	}
}

// writableDescription says in a sentence which paths the run may write.
func (t *Tree) writableDescription() string {
	switch {
	case len(t.pol.Edits) > 0:
		s := "You may only write paths matching these globs: " + strings.Join(quoteAll(t.pol.Edits), ", ") + "."
		if WorkflowsAllowed(t.pol.Edits) {
			return s
		}
		return s + " Nothing under .github/workflows."
	case t.pol.KeyPath != "":
		return fmt.Sprintf("You may only write %q.", t.pol.KeyPath)
	}
	return "This run may not write any file."
}
