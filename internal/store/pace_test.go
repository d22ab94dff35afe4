package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/tend-app/tend/internal/store"
)

// Bookings keep the gap, never put more than N writes in a window (with
// its margin), refuse to book beyond MaxWait, keep installations apart, and
// are shared by two handles on the same database.
func TestReserveWrite(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.UnixMilli(1_000_000_000)
		st.SetClock(func() time.Time { return now })
		p := store.WritePace{Windows: []store.WriteWindow{{N: 3, Per: 10 * time.Second}}, Gap: time.Second, MaxWait: 30 * time.Second}
		var at []time.Time
		for range 3 {
			b, err := st.ReserveWrite(ctx, 1, p)
			if err != nil || !b.OK {
				t.Fatalf("booking: %+v %v", b, err)
			}
			at = append(at, b.At)
		}
		if at[1].Sub(at[0]) != time.Second || at[2].Sub(at[1]) != time.Second || !at[0].Equal(now) {
			t.Errorf("bookings %v: want now, +1s, +2s", at)
		}
		// The fourth must wait for the first to leave the window, plus the
		// margin (a twentieth of the window: 0.5s).
		b, err := st.ReserveWrite(ctx, 1, p)
		if err != nil || !b.OK || b.At.Sub(at[0]) != 10500*time.Millisecond || b.Wait != b.At.Sub(now) {
			t.Errorf("fourth booking %+v %v: want the first + 10.5s", b, err)
		}
		// Another installation is not affected.
		if b, err := st.ReserveWrite(ctx, 2, p); err != nil || !b.OK || b.Wait != 0 {
			t.Errorf("other installation: %+v %v", b, err)
		}
		// Beyond MaxWait nothing is booked.
		short := p
		short.MaxWait = 5 * time.Second
		b, err = st.ReserveWrite(ctx, 1, short)
		if err != nil || b.OK || b.Wait < 10*time.Second {
			t.Errorf("booking past MaxWait: %+v %v; want refused with the wait", b, err)
		}
		// A write answered late moves its booking, and the next one with it.
		if err := st.WriteDone(ctx, 2, now, now.Add(3*time.Second)); err != nil {
			t.Fatal(err)
		}
		if b, err := st.ReserveWrite(ctx, 2, p); err != nil || !b.OK || b.Wait != 4*time.Second {
			t.Errorf("after a late write: %+v %v; want 3s + the 1s gap", b, err)
		}
	})
}
