package faulthelper

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"
)

// Run puts the spec in force, prints ReadyLine, holds the fault until ctx
// ends (the helper container is stopped), then removes it and prints
// HealedLine. With Spec.Clear it only removes what a helper with this
// chain left behind. Its errors say what remains in force.
func Run(ctx context.Context, s Spec, stdout io.Writer) error {
	if s.Hold {
		fmt.Fprintln(stdout, ReadyLine)
		<-ctx.Done()
		fmt.Fprintln(stdout, HealedLine)
		return nil
	}
	// The helper's own work must finish even though ctx ending is what
	// tells it to stop.
	work := context.WithoutCancel(ctx)
	ipt, err := chooseBackend(work)
	if err != nil {
		return err
	}
	if err := ipt.remove(work, s); err != nil { // a helper of the same fault that died
		return err
	}
	if s.Clear {
		fmt.Fprintln(stdout, HealedLine)
		return nil
	}
	var d *delayer
	if s.Delay > 0 {
		// Bound before any rule sends packets to the queue.
		if d, err = startDelayer(s.Queue, s.Delay, s.Jitter); err != nil {
			return err
		}
	}
	if err := ipt.install(work, s); err != nil {
		if rerr := ipt.remove(work, s); rerr != nil {
			err = fmt.Errorf("%w; and removing what was added: %v", err, rerr)
		}
		if d != nil {
			d.stop()
		}
		return err
	}
	fmt.Fprintln(stdout, ReadyLine)
	var failed error
	if d != nil {
		select {
		case <-ctx.Done():
		case failed = <-d.failed:
		}
	} else {
		<-ctx.Done()
	}
	err = ipt.remove(work, s) // no packet is queued once the jump is gone
	if d != nil {
		d.stop() // then the packets held are let through
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, HealedLine)
	if failed != nil {
		return fmt.Errorf("the delay stopped working, so it was removed: %w", failed)
	}
	return nil
}

// delayer holds each packet of its queue for the delay (± jitter) and
// then accepts it. Packets leave in the order they came: a release time
// is never earlier than the one before, so jitter varies the delay without
// reordering a stream (TCP would read reordering as loss).
type delayer struct {
	q       *nfqueue
	held    chan heldPacket
	done    chan struct{}
	drained chan struct{}
	failed  chan error
}

type heldPacket struct {
	id      uint32
	release time.Time
}

func startDelayer(num uint16, delay, jitter time.Duration) (*delayer, error) {
	q, err := openQueue(num)
	if err != nil {
		return nil, err
	}
	d := &delayer{q: q, held: make(chan heldPacket, queueMaxLen), done: make(chan struct{}), drained: make(chan struct{}), failed: make(chan error, 2)}
	go func() {
		var last time.Time
		err := q.receive(d.done, func(id uint32) {
			release := time.Now().Add(delay)
			if jitter > 0 {
				release = release.Add(time.Duration(rand.Int64N(int64(2*jitter+1))) - jitter)
			}
			if release.Before(last) {
				release = last
			}
			last = release
			select {
			case d.held <- heldPacket{id, release}:
			default:
				_ = q.accept(id) // more held than the queue holds: let it through rather than lose it
			}
		})
		if err != nil {
			d.failed <- err
		}
		close(d.held)
	}()
	go func() {
		defer close(d.drained)
		for p := range d.held {
			select {
			case <-d.done: // stopping: let everything through now
			case <-time.After(time.Until(p.release)):
			}
			if err := q.accept(p.id); err != nil && !errors.Is(err, context.Canceled) {
				select {
				case d.failed <- err:
				default:
				}
			}
		}
	}()
	return d, nil
}

// stop lets every held packet through and closes the queue.
func (d *delayer) stop() {
	close(d.done)
	<-d.drained
	d.q.close()
}
