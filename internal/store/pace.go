package store

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// WriteWindow allows at most N writes in any period of length Per.
type WriteWindow struct {
	N   int
	Per time.Duration
}

// WritePace is how an installation's content-creating requests are spaced.
type WritePace struct {
	Windows []WriteWindow
	// Gap is the least time between the starts of two writes.
	Gap time.Duration
	// MaxWait: a write that would have to wait longer is not booked.
	MaxWait time.Duration
}

// margin is kept free at the end of each window: requests reach GitHub a
// little after their booked time, and not all equally late, so bookings
// exactly a window apart could land closer. A twentieth of the window, and
// at least the jitter a loaded process and network add.
func margin(per time.Duration) int64 {
	return max(per/20, 250*time.Millisecond).Milliseconds()
}

// WriteBooking is a booked write.
type WriteBooking struct {
	At   time.Time     // when the write may start
	Wait time.Duration // how long from now that is
	OK   bool          // false: nothing booked, come back after Wait
}

// ReserveWrite books the earliest time, from now on, at which installation
// may start its next content-creating request under p. When that is more
// than p.MaxWait away nothing is booked (OK false). Bookings are shared by
// every process using the database.
func (s *Store) ReserveWrite(ctx context.Context, installationID int64, p WritePace) (WriteBooking, error) {
	now := ms(s.now())
	var b WriteBooking
	var longest time.Duration
	most := 1
	for _, w := range p.Windows {
		longest, most = max(longest, w.Per), max(most, w.N)
	}
	err := s.InTx(ctx, func(tx Tx) error {
		if s.Dialect == Postgres {
			// Serialise the bookings of one installation across replicas.
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "tend_write:"+strconv.FormatInt(installationID, 10)); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM tend_write_slot WHERE installation_id = $1 AND at < $2`, installationID, now-2*longest.Milliseconds()); err != nil {
			return err
		}
		booked, err := s.recentWrites(ctx, tx, installationID, most)
		if err != nil {
			return err
		}
		slot := now
		if len(booked) > 0 {
			slot = max(slot, booked[0]+max(p.Gap.Milliseconds(), 1))
		}
		for _, w := range p.Windows {
			if w.N > 0 && len(booked) >= w.N {
				slot = max(slot, booked[w.N-1]+w.Per.Milliseconds()+margin(w.Per))
			}
		}
		b = WriteBooking{At: fromMS(slot), Wait: time.Duration(slot-now) * time.Millisecond}
		if b.Wait > p.MaxWait {
			return nil
		}
		b.OK = true
		_, err = tx.Exec(ctx, `INSERT INTO tend_write_slot (installation_id, at) VALUES ($1, $2)`, installationID, slot)
		return err
	})
	if err != nil {
		return WriteBooking{}, fmt.Errorf("book a write of installation %d: %w", installationID, err)
	}
	return b, nil
}

// WriteDone moves a booking to when its request was answered: the latest
// moment GitHub can have counted it, which later bookings then keep their
// distance from even when the request left late.
func (s *Store) WriteDone(ctx context.Context, installationID int64, booked, done time.Time) error {
	if !done.After(booked) {
		return nil
	}
	if _, err := s.Q().Exec(ctx, `UPDATE tend_write_slot SET at = $3 WHERE installation_id = $1 AND at = $2`, installationID, ms(booked), ms(done)); err != nil {
		return fmt.Errorf("record a write of installation %d: %w", installationID, err)
	}
	return nil
}

// recentWrites returns the latest n bookings of an installation, latest first.
func (s *Store) recentWrites(ctx context.Context, tx Tx, installationID int64, n int) ([]int64, error) {
	rows, err := tx.Query(ctx, `SELECT at FROM tend_write_slot WHERE installation_id = $1 ORDER BY at DESC LIMIT $2`, installationID, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var at int64
		if err := rows.Scan(&at); err != nil {
			return nil, err
		}
		out = append(out, at)
	}
	return out, rows.Err()
}
