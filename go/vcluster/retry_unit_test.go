package vcluster

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
)

// A caller that gives up while the client waits to retry gets its own cancellation, with the
// attempts made so far, not the last server error.
func TestRetryStopsWaitingWhenTheCallerGivesUp(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	policy := RetryPolicy{random: func() float64 { return 0.5 }, BaseDelay: time.Hour}
	policy.sleep = func(ctx context.Context, d time.Duration) error {
		cancel() // the caller gives up during the backoff
		return sleepContext(ctx, d)
	}
	h, client := newRetryHarness(t, []failureVector{{Kind: "response", Code: "unavailable"}}, policy)
	err := callProcedure(ctx, t, client, "vcluster.api.v1.VClusterService/GetVCluster", "")
	var re *RetriedError
	if !errors.As(err, &re) || connect.CodeOf(err) != connect.CodeCanceled || re.Attempts != 1 ||
		!strings.Contains(err.Error(), "stopped while waiting to retry") {
		t.Fatalf("got %v, want Canceled after 1 attempt", err)
	}
	if h.attempts != 1 {
		t.Errorf("%d attempts", h.attempts)
	}
	if code := contextCode(context.DeadlineExceeded); code != connect.CodeDeadlineExceeded {
		t.Errorf("contextCode(DeadlineExceeded) = %v", code)
	}
}
