package vcluster

import (
	"context"
	"math"
	"math/rand/v2"
	"time"
)

// fullJitter is the "full jitter" delay of the zero-based retry n: uniform in
// [0, min(max, initial × multiplier^n)]. Spreading retries over the whole window avoids
// synchronised waves of retries from many clients.
func fullJitter(retry int, initial, maxDelay time.Duration, multiplier float64, random float64) time.Duration {
	ceilingMs := float64(jitterCeiling(retry, initial, maxDelay, multiplier).Milliseconds())
	return time.Duration(math.Floor(random*ceilingMs)) * time.Millisecond
}

func jitterCeiling(retry int, initial, maxDelay time.Duration, multiplier float64) time.Duration {
	if multiplier == 0 {
		multiplier = 2
	}
	ceilingMs := float64(initial.Milliseconds()) * math.Pow(multiplier, float64(retry))
	if ceilingMs > float64(maxDelay.Milliseconds()) {
		return maxDelay
	}
	return time.Duration(ceilingMs) * time.Millisecond
}

// backoff grows with consecutive failures and starts over after a success.
type backoff struct {
	initial, max time.Duration
	random       func() float64
	failures     int
}

func (b *backoff) next() time.Duration {
	d := fullJitter(b.failures, b.initial, b.max, 2, b.random())
	b.failures++
	return d
}

func (b *backoff) reset() { b.failures = 0 }

// sleepContext waits for d or until ctx is done, whichever comes first.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func randomOrDefault(r func() float64) func() float64 {
	if r == nil {
		return rand.Float64
	}
	return r
}
