package changes

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v89/github"
)

// Base is the base branch as a run read it.
type Base struct {
	Branch string // the default branch's name
	Commit string // its head commit
	Tree   string // that commit's tree
}

// ErrBranchNotFound means the base branch does not exist (renamed or
// deleted); the caller refreshes the repository's default branch.
var ErrBranchNotFound = errors.New("base branch not found")

// ReadBase reads the head of branch in one request (the branch answer
// carries both the commit and its tree). The answer is a conditional
// request, so an unchanged branch costs a 304.
func ReadBase(ctx context.Context, client *github.Client, owner, repo, branch string) (Base, error) {
	b, _, err := client.Repositories.GetBranch(ctx, owner, repo, branch, 1)
	if err != nil {
		if isStatus(err, http.StatusNotFound) {
			return Base{}, fmt.Errorf("branch %s of %s/%s: %w", branch, owner, repo, ErrBranchNotFound)
		}
		return Base{}, fmt.Errorf("read branch %s: %w", branch, err)
	}
	c := b.GetCommit()
	return Base{Branch: b.GetName(), Commit: c.GetSHA(), Tree: c.GetCommit().GetTree().GetSHA()}, nil
}

// File is a file as read at a commit.
type File struct {
	Path    string
	Content []byte
	Exists  bool
	SHA     string // blob SHA, when it exists
}

// TooLargeError says a file is larger than the caller is willing to read;
// its content was not fetched.
type TooLargeError struct {
	Path        string
	Size, Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is %d bytes; files over %d bytes are not read", e.Path, e.Size, e.Limit)
}

// ReadFile reads path at ref (a commit SHA, so the answer can be cached
// for as long as the base does not move). Files over the contents API's
// 1 MB inline limit are read as blobs.
func ReadFile(ctx context.Context, client *github.Client, owner, repo, ref, path string) (File, error) {
	return ReadFileMax(ctx, client, owner, repo, ref, path, 0)
}

// StatFile says whether path is a file at ref and gives its blob SHA. It
// fetches no content beyond what the contents API answers inline, so a
// file of any size costs one request and no more memory than its metadata.
func StatFile(ctx context.Context, client *github.Client, owner, repo, ref, path string) (File, error) {
	f, err := ReadFileMax(ctx, client, owner, repo, ref, path, 1)
	var tooLarge *TooLargeError
	if errors.As(err, &tooLarge) {
		return f, nil // exists, SHA set, content not read
	}
	return f, err
}

// ReadFileMax is ReadFile for files up to limit bytes (no limit when it
// is zero or negative): a larger file's content is never fetched, and the
// error is a *TooLargeError. GitHub serves files of up to 100 MB, and one
// such file would otherwise sit in memory several times over (JSON,
// base64 and decoded) while it is read.
func ReadFileMax(ctx context.Context, client *github.Client, owner, repo, ref, path string, limit int64) (File, error) {
	f := File{Path: path}
	fc, dir, _, err := client.Repositories.GetContents(ctx, owner, repo, path, &github.RepositoryContentGetOptions{Ref: ref})
	if err != nil {
		if isStatus(err, http.StatusNotFound) {
			return f, nil
		}
		return f, fmt.Errorf("read %s at %s: %w", path, short(ref), err)
	}
	if fc == nil || dir != nil {
		return f, nil // a directory: no file here
	}
	if fc.GetType() != "file" {
		// Symlinks and submodules are not files tend edits.
		return f, nil
	}
	f.Exists, f.SHA = true, fc.GetSHA()
	if limit > 0 && int64(fc.GetSize()) > limit {
		return f, &TooLargeError{Path: path, Size: int64(fc.GetSize()), Limit: limit}
	}
	if fc.GetSize() > 0 && fc.Content == nil || fc.GetEncoding() == "none" {
		blob, _, err := client.Git.GetBlob(ctx, owner, repo, fc.GetSHA())
		if err != nil {
			return f, fmt.Errorf("read blob of %s: %w", path, err)
		}
		raw, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(blob.GetContent(), "\n", ""))
		if err != nil {
			return f, fmt.Errorf("decode blob of %s: %w", path, err)
		}
		f.Content = raw
		return f, nil
	}
	s, err := fc.GetContent()
	if err != nil {
		return f, fmt.Errorf("decode %s: %w", path, err)
	}
	f.Content = []byte(s)
	return f, nil
}

func isStatus(err error, code int) bool {
	var er *github.ErrorResponse
	return errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == code
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
