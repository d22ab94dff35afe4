package botpr

import (
	"strings"
	"sync/atomic"
)

// Identity is who tend is on GitHub: the App's id and its bot account,
// "<slug>[bot]". The slug is learned from GET /app after start, so it may be
// unknown for a moment; until then IsBot falls back to the id-less check
// the caller can make (user type "Bot" on a tend/ branch).
type Identity struct {
	AppID int64
	slug  atomic.Pointer[string]
}

// NewIdentity returns an Identity for the App appID with slug (may be empty).
func NewIdentity(appID int64, slug string) *Identity {
	id := &Identity{AppID: appID}
	if slug != "" {
		id.SetSlug(slug)
	}
	return id
}

// SetSlug records the App's slug.
func (i *Identity) SetSlug(slug string) { i.slug.Store(&slug) }

// Slug returns the App's slug, or "" while unknown.
func (i *Identity) Slug() string {
	if i == nil {
		return ""
	}
	if s := i.slug.Load(); s != nil {
		return *s
	}
	return ""
}

// BotLogin is the login of tend's bot account, or "" while unknown.
func (i *Identity) BotLogin() string {
	if s := i.Slug(); s != "" {
		return s + "[bot]"
	}
	return ""
}

// IsBot reports whether login is tend's bot account. userType is the
// account's type from the payload ("Bot", "User"); while the slug is
// unknown, any bot account counts, which errs on the side of ignoring an
// event rather than looping on our own.
func (i *Identity) IsBot(login, userType string) bool {
	if b := i.BotLogin(); b != "" {
		return strings.EqualFold(login, b)
	}
	return userType == "Bot"
}

// BranchPrefix starts the name of every branch tend writes.
const BranchPrefix = "tend/"
