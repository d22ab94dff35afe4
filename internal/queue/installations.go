package queue

import (
	"context"
	"fmt"

	"github.com/riverqueue/river"

	"github.com/tend-app/tend/internal/keys"
)

// KindInstallation is the River job kind that lists the repositories of
// one installation through GitHub and enqueues each repository's key. A
// delivery asks for it when its payload does not list the repositories it
// concerns (GitHub's "installation" unsuspend and new_permissions_accepted
// carry none), so the webhook intake stays free of GitHub calls while the
// request to resync survives a crash like any key.
const KindInstallation = "tend.installation"

// installationArgs is one installation to list. The jobs are not unique:
// River's uniqueness covers running jobs, so a request arriving after a
// listing read its pages would be lost in it. Two listings at once only
// enqueue keys that collapse.
type installationArgs struct {
	InstallationID int64 `json:"installation_id"`
	// Trigger and Delivery are handed to the repository keys enqueued.
	Trigger  string `json:"trigger"`
	Delivery string `json:"delivery,omitempty"`
}

func (installationArgs) Kind() string { return KindInstallation }

func (q *Queue) installationParams(id int64, delivery, trigger string) river.InsertManyParams {
	return river.InsertManyParams{
		Args: installationArgs{InstallationID: id, Trigger: trigger, Delivery: delivery},
		InsertOpts: &river.InsertOpts{
			Queue:       queueSync,
			MaxAttempts: q.opts.MaxAttempts,
		},
	}
}

// insertInstallations inserts, within the intake transaction, one listing
// job per installation named by the batch's deliveries that were not
// duplicates, and credits each to the first delivery naming it.
func (q *Queue) insertInstallations(ctx context.Context, tx txn, live []intakeRequest, results []IntakeResult) error {
	var params []river.InsertManyParams
	seen := map[int64]bool{}
	for i, r := range live {
		if results[i].Duplicate {
			continue
		}
		for _, id := range r.d.Installations {
			if id > 0 && !seen[id] {
				seen[id] = true
				results[i].Listings++
				params = append(params, q.installationParams(id, r.d.ID, deliveryTrigger(r.d)))
			}
		}
	}
	if len(params) == 0 {
		return nil
	}
	if _, err := tx.insert(ctx, params); err != nil {
		return fmt.Errorf("insert installation listings: %w", err)
	}
	return nil
}

// installationWorker runs installation jobs: it asks Options.InstallationRepos
// for the installation's repository keys and enqueues them.
type installationWorker struct {
	river.WorkerDefaults[installationArgs]
	q *Queue
}

func (w *installationWorker) Work(ctx context.Context, job *river.Job[installationArgs]) error {
	q := w.q
	a := job.Args
	log := q.log.With().Int64("installation_id", a.InstallationID).Str("trigger", a.Trigger).Int("attempt", job.Attempt).Logger()
	if a.Delivery != "" {
		log = log.With().Str("delivery", a.Delivery).Logger()
	}
	if q.opts.InstallationRepos == nil {
		log.Warn().Msg("this process cannot list installations; the repositories wait for the periodic discovery")
		return nil
	}
	ks, err := q.opts.InstallationRepos(ctx, a.InstallationID)
	if err != nil {
		log.Warn().Err(err).Msg("listing the installation's repositories; retrying")
		return fmt.Errorf("list the repositories of installation %d: %w", a.InstallationID, err)
	}
	var inserted map[string]bool
	if len(ks) > 0 {
		err = q.b.inTx(ctx, func(tx txn) error {
			inserted, err = q.enqueueTx(ctx, tx, countKeys(ks, a.Delivery, a.Trigger))
			return err
		})
		if err != nil {
			return fmt.Errorf("enqueue the repositories of installation %d: %w", a.InstallationID, err)
		}
	}
	log.Info().Int("repositories", len(ks)).Int("inserted", len(inserted)).Msg("installation listed; its repositories are enqueued")
	return nil
}

// InstallationsFunc lists the repository keys of an installation (see
// Options.InstallationRepos).
type InstallationsFunc func(ctx context.Context, installationID int64) ([]keys.Key, error)
