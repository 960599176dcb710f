package export

// Slots bounds how many exports stream at once: each holds a database
// connection (and its snapshot) for as long as it streams.
//
//	release, ok := slots.Take()
//	if !ok {
//		// 429, Retry-After
//	}
//	defer release()
type Slots struct{ c chan struct{} }

// NewSlots returns room for n exports at once (at least one).
func NewSlots(n int) *Slots { return &Slots{c: make(chan struct{}, max(n, 1))} }

// Take takes a slot if one is free, without waiting; release gives it
// back. ok is false when every slot is taken: the caller should tell the
// client to come back shortly.
func (s *Slots) Take() (release func(), ok bool) {
	select {
	case s.c <- struct{}{}:
		return func() { <-s.c }, true
	default:
		return nil, false
	}
}

// Size is how many exports may stream at once.
func (s *Slots) Size() int { return cap(s.c) }
