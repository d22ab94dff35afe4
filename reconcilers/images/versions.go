package images

import (
	"regexp"
	"strconv"

	"github.com/Masterminds/semver/v3"

	"github.com/tend-app/tend/internal/config"
)

// Update modes: how far a tag may move. They are the values of a rule's
// `update` setting, as the config parser accepts them.
const (
	UpdateDigest = config.UpdateDigest // keep the tag, pin its current digest
	UpdatePatch  = config.UpdatePatch  // same major and minor
	UpdateMinor  = config.UpdateMinor  // same major
	UpdateMajor  = config.UpdateMajor  // anything newer
)

// versionTagRe reads a tag as a version the way image publishers write them:
// an optional v, one to three numbers, an optional pre-release (`-rc.1`,
// `rc1`, `beta2`, and Python's `a1`/`b1`) and an optional suffix after a
// dash (`-alpine`, `-slim-bookworm`, `-alpine3.20`) that names a variant.
var versionTagRe = regexp.MustCompile(`^(v|V)?(\d{1,9})(?:\.(\d{1,9}))?(?:\.(\d{1,9}))?` +
	`(?:[-.]?(alpha|beta|rc|pre|preview|dev)\.?(\d{0,9})|(a|b)(\d{1,9}))?` +
	`(?:-([A-Za-z0-9][A-Za-z0-9._-]*))?$`)

// tagVersion is a tag read as a version. Two tags are comparable only when
// they belong to the same family: the same prefix, the same number of
// numeric parts and the same suffix. `1.27-alpine` and `1.28-alpine` are one
// family; `1.28` (another variant) and `1.28.1-alpine` (another precision:
// a floating tag never turns into a fixed one) are not.
type tagVersion struct {
	prefix string
	parts  []uint64
	pre    string // normalised pre-release ("rc.1"); "" for a release
	suffix string
	// revision is a trailing -rN of the suffix (Bitnami's
	// 16.4.0-debian-12-r13): a rebuild of the same version, ordered after
	// the version and not part of the family.
	revision uint64
	sem      *semver.Version // for ordering, pre-releases included
}

// revisionRe finds a rebuild counter at the end of a suffix.
var revisionRe = regexp.MustCompile(`^(.*?)-?r(\d{1,9})$`)

// parseTagVersion reads tag as a version; ok is false for tags such as
// `latest`, `stable`, `nonroot` or `sha256-….sig`, which only get digests.
func parseTagVersion(tag string) (v tagVersion, ok bool) {
	m := versionTagRe.FindStringSubmatch(tag)
	if m == nil {
		return tagVersion{}, false
	}
	v.prefix, v.suffix = m[1], m[9]
	for _, p := range m[2:5] {
		if p == "" {
			break
		}
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return tagVersion{}, false
		}
		v.parts = append(v.parts, n)
	}
	switch {
	case m[5] != "":
		v.pre = m[5]
		if m[6] != "" {
			v.pre += "." + m[6]
		}
	case m[7] == "a":
		v.pre = "alpha." + m[8]
	case m[7] == "b":
		v.pre = "beta." + m[8]
	}
	if rm := revisionRe.FindStringSubmatch(v.suffix); rm != nil {
		v.suffix = rm[1]
		v.revision, _ = strconv.ParseUint(rm[2], 10, 64)
	}
	padded := append(append([]uint64{}, v.parts...), 0, 0)
	v.sem = semver.New(padded[0], padded[1], padded[2], v.pre, "")
	return v, true
}

// dateLike is the smallest first part read as a year, a date (20240923) or
// a build number rather than a major version: repositories such as alpine
// publish both `3.20` and `20240923`, and 20240923 is not a newer major
// than 3.
const dateLike = 1000

// sameFamily reports whether o can replace v.
func (v tagVersion) sameFamily(o tagVersion) bool {
	return v.prefix == o.prefix && v.suffix == o.suffix && len(v.parts) == len(o.parts) &&
		(v.parts[0] >= dateLike) == (o.parts[0] >= dateLike)
}

// withinBound reports whether o stays within mode's bound of v: the leading
// parts it must share (major for minor updates, major and minor for patch
// updates) are equal.
func (v tagVersion) withinBound(o tagVersion, mode string) bool {
	fixed := 0
	switch mode {
	case UpdatePatch:
		fixed = 2
	case UpdateMinor:
		fixed = 1
	case UpdateMajor:
		fixed = 0
	default:
		return false
	}
	for i := 0; i < fixed && i < len(v.parts); i++ {
		if v.parts[i] != o.parts[i] {
			return false
		}
	}
	return true
}

// pickTag returns the newest tag of tags that current may move to under
// mode, or current itself when none is newer, current is not a version, or
// mode is UpdateDigest. Pre-releases are candidates only when current is
// one.
func pickTag(current string, tags []string, mode string) string {
	if mode == UpdateDigest || mode == "" {
		return current
	}
	cur, ok := parseTagVersion(current)
	if !ok {
		return current
	}
	best, bestTag := cur, current
	for _, t := range tags {
		v, ok := parseTagVersion(t)
		if !ok || !cur.sameFamily(v) || !cur.withinBound(v, mode) {
			continue
		}
		if v.pre != "" && cur.pre == "" {
			continue
		}
		if v.newerThan(best) {
			best, bestTag = v, t
		}
	}
	return bestTag
}

// newerThan orders versions of one family: by version, then revision.
func (v tagVersion) newerThan(o tagVersion) bool {
	if c := v.sem.Compare(o.sem); c != 0 {
		return c > 0
	}
	return v.revision > o.revision
}

// isVersionTag reports whether tag can move at all under an update mode.
func isVersionTag(tag string) bool {
	_, ok := parseTagVersion(tag)
	return ok
}
