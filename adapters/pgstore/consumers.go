package pgstore

import "context"

// WithConsumerLock runs fn while this process alone holds consumer's
// lock, so that one process at a time feeds a sink that needs the events
// in order (the stream). When another process holds it, fn does not run
// and ran is false. The lock belongs to a transaction held open on its
// own connection for the turn: it goes when the turn ends, or with the
// connection if the process dies; fn's own queries run outside it.
//
//	ran, err := store.WithConsumerLock(ctx, stream.Consumer, func(ctx context.Context) error {
//		_, err := eventflow.Consume(ctx, store, stream.Consumer, nil, sink, time.Now)
//		return err
//	})
func (s *Store) WithConsumerLock(ctx context.Context, consumer string, fn func(ctx context.Context) error) (ran bool, err error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return false, storeError(err, "lock consumer %s", consumer)
	}
	// The transaction wrote nothing: ending it only lets the lock go.
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var locked bool
	// A key of the consumer's own, apart from the relay's.
	if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(hashtextextended('claimsd consumer ' || $1, 0))`, consumer).
		Scan(&locked); err != nil {
		return false, storeError(err, "lock consumer %s", consumer)
	}
	if !locked {
		return false, nil
	}
	return true, fn(ctx)
}
