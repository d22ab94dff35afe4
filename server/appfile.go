package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// appFileName is where the manifest flow stores the registered App's
// credentials, in TEND_DATA_DIR.
const appFileName = "github-app.json"

// appFile is the registered App's identity and secrets. It is written once,
// with mode 0600, and never logged or shown.
type appFile struct {
	ID            int64  `json:"id"`
	Slug          string `json:"slug"`
	Name          string `json:"name,omitempty"`
	HTMLURL       string `json:"html_url,omitempty"`
	PrivateKey    string `json:"pem"`
	WebhookSecret string `json:"webhook_secret"`
	ClientID      string `json:"client_id,omitempty"`
	ClientSecret  string `json:"client_secret,omitempty"`
}

// readAppFile reads dir/github-app.json; a missing file is (nil, nil).
func readAppFile(dir string) (*appFile, error) {
	data, err := os.ReadFile(filepath.Join(dir, appFileName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", appFileName, err)
	}
	var f appFile
	if err := json.Unmarshal(data, &f); err != nil {
		// json's errors name offsets and types, never the contents.
		return nil, fmt.Errorf("%s in %s is not valid JSON: %w", appFileName, dir, err)
	}
	return &f, nil
}

// writeAppFile stores f as dir/github-app.json with mode 0600. It never
// replaces an existing file: a second registration must not silently
// orphan the first App.
func writeAppFile(dir string, f *appFile) error {
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", appFileName, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, appFileName+".tmp*") // created 0600
	if err != nil {
		return fmt.Errorf("write %s: %w", appFileName, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", appFileName, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", appFileName, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", appFileName, err)
	}
	// A hard link fails when the target exists, unlike a rename.
	if err := os.Link(tmp.Name(), filepath.Join(dir, appFileName)); err != nil {
		return fmt.Errorf("store %s: %w", appFileName, err)
	}
	return nil
}

// applyAppFile fills in the App credentials the environment did not set:
// environment variables always win over the file.
func (s *settings) applyAppFile(f *appFile) {
	if f == nil {
		return
	}
	app := &s.GitHub.App
	if app.IntegrationID == 0 {
		app.IntegrationID = f.ID
	}
	if app.PrivateKey == "" {
		app.PrivateKey = f.PrivateKey
	}
	if app.WebhookSecret == "" {
		app.WebhookSecret = f.WebhookSecret
	}
	if s.GitHub.OAuth.ClientID == "" {
		s.GitHub.OAuth.ClientID = f.ClientID
	}
	if s.GitHub.OAuth.ClientSecret == "" {
		s.GitHub.OAuth.ClientSecret = f.ClientSecret
	}
	if s.AppSlug == "" {
		s.AppSlug = f.Slug
	}
}
