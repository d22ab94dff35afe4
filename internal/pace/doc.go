// Package pace spaces tend's content-creating requests to GitHub (every
// POST, PATCH, PUT and DELETE made with an installation token) under
// GitHub's guidance for them: about 80 a minute and 500 an hour per
// installation, one at a time. Bookings live in the database, so every
// replica paces the same installation together. A write that would wait
// longer than a few seconds is not made: the run fails with
// reconcilers.RetryAfter and the queue snoozes its key until the budget
// allows, so a resync of a large organisation queues its writes instead of
// tripping GitHub's secondary limits or holding a worker for minutes.
//
// When GitHub asks to wait anyway (a 403 or 429 with Retry-After, or the
// primary limit spent until x-ratelimit-reset), every request of that
// installation in the process is held for the window, not only the run that
// got the answer: the others fail at once with reconcilers.RetryAfter, so
// nothing reaches GitHub inside the window it asked for.
package pace
