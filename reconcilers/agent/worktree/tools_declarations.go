package worktree

import (
	"fmt"
	"strings"

	"google.golang.org/genai"

	"github.com/tend-app/tend/internal/toolschema"
)

// The arguments of the file tools, as the model is shown them. Call
// accepts exactly these names; it reads the values itself (see args),
// since the model may send anything.
type (
	listFilesParams struct {
		Path string `json:"path,omitempty" description:"Directory relative to the repository root. Optional; default: the root."`
		Glob string `json:"glob,omitempty" description:"Glob pattern to match file paths against. Optional."`
	}
	// pathParam is the file a tool acts on (all delete_file takes).
	pathParam struct {
		Path string `json:"path" description:"File path relative to the repository root, with / separators (e.g. \"docs/intro.md\"). No leading /, no \"..\"."`
	}
	readFileParams struct {
		pathParam
		Offset int `json:"offset,omitempty" description:"First line to return, 1-based. Optional; default 1."`
		Limit  int `json:"limit,omitempty" description:"Maximum number of lines to return. Optional; default: as many as fit."`
	}
	searchParams struct {
		Pattern string `json:"pattern" description:"Regular expression, e.g. \"func [A-Z]\\\\w*\\\\(\" or \"(?i)todo\"."`
		Glob    string `json:"glob,omitempty" description:"Only search files whose path matches this glob (doublestar syntax, e.g. \"**/*.yaml\"). Optional."`
	}
	writeFileParams struct {
		pathParam
		Content string `json:"content" description:"The complete new content of the file."`
	}
	editFileParams struct {
		pathParam
		OldText string `json:"old_text" description:"The exact text to replace; must occur exactly once."`
		NewText string `json:"new_text" description:"The text to put in its place (may be empty to remove old_text)."`
	}
)

// Declarations returns the six file tools for genai.Tool.FunctionDeclarations.
// The descriptions name the run's writable paths so the model need not
// discover them by trial.
func (t *Tree) Declarations() []*genai.FunctionDeclaration {
	writable := t.writableDescription()
	descriptions := map[string]string{
		ToolListFiles: fmt.Sprintf("List files in the repository (as it stands in this run, including your own writes). "+
			"With path: the entries directly inside that directory (subdirectories end in /); no path means the repository root. "+
			"With glob: every file matching the glob (doublestar syntax: * stays within a directory, ** crosses directories, e.g. \"**/*.go\" or \"docs/**/*.md\"); "+
			"given both, the glob is relative to path. Returns one path per line, at most %d; symbolic links and submodules are marked.", t.pol.MaxListResults),
		ToolReadFile: fmt.Sprintf("Read a text file. Returns the file's exact text in \"output\" (no line numbers added), "+
			"with start_line, end_line and total_lines; at most %d bytes per call, and a note says how to continue when there is more. "+
			"Use offset and limit to read part of a large file. Binary files, symbolic links and submodules cannot be read.", t.pol.MaxReadBytes),
		ToolSearch: fmt.Sprintf("Search file contents with a regular expression (Go RE2 syntax, matched against each line; prefix (?i) to ignore case). "+
			"Returns matching lines as \"path:line: text\", at most %d, long lines shortened. Binary files and files over %d bytes are skipped. "+
			"Restrict the files with glob to search faster and wider.", t.pol.MaxSearchResults, t.pol.MaxFileBytes),
		ToolWriteFile: fmt.Sprintf("Create a file or replace its whole content. Prefer edit_file for changing part of an existing file. "+
			"%s At most %d bytes per file and %d changed files in total.", writable, t.pol.MaxFileBytes, t.pol.MaxFiles),
		ToolEditFile: "Replace one exact piece of text in an existing file. old_text must appear exactly once in the file, " +
			"character for character including whitespace and indentation (copy it from read_file's output); include enough surrounding lines to make it unique. " +
			"To make several changes, call edit_file several times. " + writable,
		ToolDeleteFile: "Delete a file. " + writable,
	}
	var out []*genai.FunctionDeclaration
	for _, name := range []string{ToolListFiles, ToolReadFile, ToolSearch, ToolWriteFile, ToolEditFile, ToolDeleteFile} {
		out = append(out, &genai.FunctionDeclaration{
			Name:        name,
			Description: descriptions[name],
			Parameters:  toolschema.MustOf(tools[name].params),
		})
	}
	return out
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
