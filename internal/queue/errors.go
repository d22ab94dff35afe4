package queue

import (
	"math/rand/v2"
	"time"

	"github.com/riverqueue/river/rivertype"
)

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
