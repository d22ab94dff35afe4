// Package config reads `.github/tend.yaml`, the file that tells tend which
// paths of a repository it manages and how.
//
// Parsing is strict: unknown fields, wrong types, duplicate rule names, bad
// globs, unknown reconcilers and unknown triggers are errors that name the
// file, line and column, because the file's authors are the only ones who can
// fix it and they should not have to guess. The file is untrusted input: it is
// bounded in size, aliases cannot blow it up, and nothing in it can widen what
// the bot may touch beyond the repository it lives in.
//
// Loading goes through go-githubapp's appconfig, so an organisation-wide
// default in the owner's `.github` repository and `remote:` references work
// the way they do for other apps built on it.
package config
