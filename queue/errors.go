package queue

import (
	"errors"
	"math/rand/v2"
	"time"

	"github.com/riverqueue/river/rivertype"
)

// Permanent marks an error that retrying cannot fix (an invalid key, a
// reconciler that does not exist). The key goes straight to the dead letters.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// IsPermanent reports whether err was marked Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// RetryAfter marks an error that says when to try again (a rate limit's
// reset, a Retry-After header). The key runs again after d without using up
// an attempt: waiting out a limit is not a failure of the key.
func RetryAfter(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return &retryAfterError{err: err, after: d}
}

type retryAfterError struct {
	err   error
	after time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// RetryAfterDelay returns the delay of a RetryAfter error.
func RetryAfterDelay(err error) (time.Duration, bool) {
	var r *retryAfterError
	if errors.As(err, &r) {
		return r.after, true
	}
	return 0, false
}

// backoff is River's retry policy for tend: exponential from base, capped at
// max, with "equal jitter" (half fixed, half random) so that keys failing
// together — GitHub down for everyone — do not retry in lockstep.
type backoff struct {
	base, max time.Duration
}

func (b *backoff) delay(attempt int) time.Duration {
	d := b.base
	for i := 1; i < attempt && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}

func (b *backoff) NextRetry(job *rivertype.JobRow) time.Time {
	at := time.Now()
	if job.AttemptedAt != nil {
		at = *job.AttemptedAt
	}
	return at.Add(b.delay(max(job.Attempt, 1)))
}
