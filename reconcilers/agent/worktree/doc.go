// Package worktree is the agent's hands: an in-memory overlay of a
// repository, the file tools the model calls (list_files, read_file,
// search, write_file, edit_file, delete_file), the confinement that decides
// which paths a call may touch, and the acceptance gate that runs before
// anything reaches a branch.
//
// # The overlay
//
// A Tree starts from a Source: the repository's tree at one commit, listed
// once (GitHubSource asks for the recursive tree and, when GitHub truncates
// it, walks subtrees). File contents are read lazily, on first use, by blob
// SHA — immutable, so cached for the run and safe for HTTP caches. Writes
// never leave memory; at the end Changes yields the change set for the
// change manager, relative to the starting tree. An Overlay is a Source
// that puts other content at some paths of another Source: a run that
// continues a bot PR starts from the base tree plus the PR's files.
// DirSource is a Source on a local checkout (`tend plan`), read through an
// os.Root so that nothing outside the directory is reached.
//
// # Tools
//
// Declarations returns the six genai function declarations; Call runs one
// call and returns the map for genai.FunctionResponse.Response: {"output":
// ...} on success, {"error": "..."} when the call is refused or fails.
// Everything the model sends is untrusted: wrong types, missing or unknown
// arguments and oversized values are tool errors, never panics. Call returns
// a Go error only for an unknown tool name, a cancelled context, or a
// failure of the Source (GitHub): the run should then stop rather than let
// the model reason over a partial view of the repository.
//
// read_file returns the file's raw text (no line numbers), so the model can
// copy it verbatim into edit_file; the window is described by sibling keys
// (start_line, end_line, total_lines, and a note saying how to continue).
// Files that are not UTF-8 text (a NUL byte in the first 8000 bytes, as git
// decides, or invalid UTF-8) are refused with an error saying so. Reading a
// symbolic link returns an error that names the link's target; links are
// never followed. Submodules are neither read nor written.
//
// # Confinement
//
// Every path argument is cleaned ("." segments, duplicate and trailing
// slashes) and refused when it is absolute, has a ".." segment, a
// backslash, a NUL or control character, is too long, or names .git in any
// case (including the NTFS and HFS+ spellings git itself guards against).
// Writes (write, edit, delete) must also match the rule's edits globs —
// only the key's own path when edits is empty, nothing for an issue key
// with empty edits — and may touch .github/workflows (compared
// case-insensitively) only when an edits glob names that directory
// literally (".github/workflows/*.yml" does, "**" and ".github/**" do not;
// neither does the key's own path by default). No write goes to a path that
// is a symbolic link or submodule, or through one. Refusals are returned to
// the model as tool errors and recorded in the trace as "refused".
//
// # The gate
//
// Check re-checks the change set when the agent submits: every changed path
// against the policy and the starting tree's links, the size limits, and
// the syntax of changed YAML (every document), JSON and TOML files. A file
// that existed and did not parse before the run (JSON with comments, a Helm
// template) is not held to parsing after it. Nothing should reach a branch
// unless Check reports no problems.
package worktree
