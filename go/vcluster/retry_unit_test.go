package vcluster

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"
	apiv1 "github.com/open-vcluster/open-vcluster/go/gen/vcluster/api/v1"
	"github.com/open-vcluster/open-vcluster/go/gen/vcluster/api/v1/apiv1connect"
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

// A connection reset under a call, which connect-go reports as CANCELED, is retried when the
// request may be repeated (it carries a request_id), and is not when the server might have
// acted on it and a repeat could act twice.
func TestRetryRepeatsACallWhoseConnectionWasReset(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle(apiv1connect.NewVClusterServiceHandler(emptyService{}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	var resets atomic.Int32
	transport := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if resets.Add(1) == 1 {
			return nil, &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
		}
		return http.DefaultTransport.RoundTrip(r)
	})
	policy := RetryPolicy{random: func() float64 { return 0.5 }}
	policy.sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	client, err := New(srv.URL, WithRetry(policy), WithHTTPClient(&http.Client{Transport: transport}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.VClusterService.CreateVCluster(t.Context(), connect.NewRequest(&apiv1.CreateVClusterRequest{Name: "dev"}))
	if err != nil {
		t.Fatalf("create after one reset: %v", err)
	}
	if got := resets.Load(); got != 2 {
		t.Errorf("%d attempts, want 2", got)
	}

	reset := connect.NewError(connect.CodeCanceled, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET})
	if !isTransient(reset) {
		t.Error("a reset connection is not transient")
	}
	if isTransient(connect.NewError(connect.CodeCanceled, context.Canceled)) {
		t.Error("a caller's own cancellation is transient")
	}
	if DefaultIsNotProcessed(reset) {
		t.Error("a reset connection proves nothing was processed")
	}
}
