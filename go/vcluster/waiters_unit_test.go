package vcluster

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	apiv1 "github.com/open-vcluster/open-vcluster/go/gen/vcluster/api/v1"
	"github.com/open-vcluster/open-vcluster/go/gen/vcluster/api/v1/apiv1connect"
)

// stateServer serves one vcluster: GetVCluster answers `current`, and each watch stream sends
// the states queued on `updates`, then stays open (or silent).
type stateServer struct {
	apiv1connect.UnimplementedVClusterServiceHandler
	mu      sync.Mutex
	current *apiv1.VCluster
	updates chan *apiv1.VCluster
	opened  atomic.Int32
	// openings is signalled on every stream opened, when set.
	openings chan struct{}
	silent   bool
}

func phaseAt(phase apiv1.Phase, rv string) *apiv1.VCluster {
	return &apiv1.VCluster{
		Id: "id-1", Namespace: "default", Name: "a",
		Status:      &apiv1.VClusterStatus{Phase: phase},
		Annotations: map[string]string{apiv1.AnnotationResourceVersion: rv},
	}
}

func (s *stateServer) GetVCluster(context.Context, *connect.Request[apiv1.GetVClusterRequest]) (*connect.Response[apiv1.GetVClusterResponse], error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return connect.NewResponse(&apiv1.GetVClusterResponse{Vcluster: s.current}), nil
}

func (s *stateServer) WatchVCluster(ctx context.Context, _ *connect.Request[apiv1.WatchVClusterRequest], stream *connect.ServerStream[apiv1.WatchVClusterResponse]) error {
	s.opened.Add(1)
	if s.openings != nil {
		s.openings <- struct{}{}
	}
	if s.silent {
		<-ctx.Done()
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case vc := <-s.updates:
			if err := stream.Send(&apiv1.WatchVClusterResponse{Type: apiv1.WatchEventType_WATCH_EVENT_TYPE_MODIFIED, Vcluster: vc}); err != nil {
				return err
			}
		}
	}
}

func serveState(t *testing.T, s *stateServer) *Client {
	mux := http.NewServeMux()
	mux.Handle(apiv1connect.NewVClusterServiceHandler(s))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, withRandom(func() float64 { return 0 }))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestWaitFailsAtOnceOnPhaseError(t *testing.T) {
	s := &stateServer{current: phaseAt(apiv1.Phase_PHASE_RESUMING, "1"), updates: make(chan *apiv1.VCluster, 1)}
	c := serveState(t, s)
	failed := phaseAt(apiv1.Phase_PHASE_ERROR, "2")
	failed.Status.Reason, failed.Status.Message = "ProviderFailed", "boom"
	s.updates <- failed
	_, err := c.WaitUntilRunning(t.Context(), Ref{Name: "a"})
	var wf *WaitFailedError
	if !errors.As(err, &wf) || wf.Reason != "ProviderFailed" || wf.LastVCluster.GetStatus().GetPhase() != apiv1.Phase_PHASE_ERROR {
		t.Fatalf("got %v, want a WaitFailedError with reason ProviderFailed", err)
	}
}

func TestWaitAnchoredOnTheOperationIgnoresOlderStates(t *testing.T) {
	// The read returns the RUNNING state from before the caller's resume (version 1); the
	// resume's response is version 2; only the RUNNING state after it (version 3) may end the wait.
	s := &stateServer{current: phaseAt(apiv1.Phase_PHASE_RUNNING, "1"), updates: make(chan *apiv1.VCluster, 2)}
	c := serveState(t, s)
	s.updates <- phaseAt(apiv1.Phase_PHASE_RESUMING, "2")
	s.updates <- phaseAt(apiv1.Phase_PHASE_RUNNING, "3")
	vc, err := c.WaitUntilRunning(t.Context(), Ref{Name: "a"}, AfterOperation(phaseAt(apiv1.Phase_PHASE_RESUMING, "2")))
	if err != nil || ResourceVersionOf(vc) != "3" {
		t.Fatalf("resolved on %v (%v), want the state at version 3", vc, err)
	}
	// Without the anchor the stale read resolves at once — which is why mutations pass it.
	vc, err = c.WaitUntilRunning(t.Context(), Ref{Name: "a"})
	if err != nil || ResourceVersionOf(vc) != "1" {
		t.Fatalf("got %v, %v", vc, err)
	}
}

func TestWaitTimeoutCarriesTheLastState(t *testing.T) {
	s := &stateServer{current: phaseAt(apiv1.Phase_PHASE_CREATING, "1"), updates: make(chan *apiv1.VCluster)}
	c := serveState(t, s)
	_, err := c.WaitUntilRunning(t.Context(), Ref{Name: "a"}, WithWaitTimeout(2*time.Second))
	var wt *WaitTimeoutError
	if !errors.As(err, &wt) || !errors.Is(err, context.DeadlineExceeded) || ResourceVersionOf(wt.LastVCluster) != "1" {
		t.Fatalf("got %v, want a WaitTimeoutError with the CREATING state", err)
	}
}

func TestWatchReplacesASilentStream(t *testing.T) {
	s := &stateServer{silent: true, openings: make(chan struct{}, 16)}
	c := serveState(t, s)
	ctx, cancel := context.WithCancel(t.Context())
	reconnected := make(chan struct{}, 1)
	w := c.Watch(&apiv1.WatchVClusterRequest{ResourceVersion: "5"}, WatchOptions{
		HeartbeatTimeout: 50 * time.Millisecond,
		OnStatus: func(st ConnectionStatus, _ error) {
			if st == StatusReconnecting {
				select {
				case reconnected <- struct{}{}:
				default:
				}
			}
		},
	})
	done := make(chan error, 1)
	go func() {
		for _, err := range w.Events(ctx) {
			done <- err
		}
	}()
	select {
	case <-reconnected:
	case <-time.After(20 * time.Second):
		t.Fatal("a silent stream was never replaced")
	}
	for range 2 {
		select {
		case <-s.openings:
		case <-time.After(20 * time.Second):
			t.Fatal("no second stream")
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("watch ended with %v, want the cancellation", err)
	}
	if w.ResourceVersion() != "5" {
		t.Errorf("resume version %q, want 5", w.ResourceVersion())
	}
	// A watch is iterated once.
	for _, err := range w.Events(t.Context()) {
		if err == nil {
			t.Error("second iteration delivered an event")
		}
	}
}

func TestDetailOfDecodesEveryViolation(t *testing.T) {
	err := connect.NewError(connect.CodeInvalidArgument, errors.New("bad request"))
	d, _ := connect.NewErrorDetail(&apiv1.ErrorDetail{
		Reason: apiv1.ReasonInvalidField, Field: "name",
		Violations: []*apiv1.FieldViolation{
			{Field: "name", Description: "must be a DNS-1123 label"},
			{Field: "spec.replicas", Description: "must be at least 1"},
		},
		OmittedViolations: 3,
	})
	err.AddDetail(d)
	wrapped := &RetriedError{Attempts: 2, Previous: []error{errors.New("first")}, Last: err}
	detail := DetailOf(wrapped)
	if detail == nil || detail.Reason != apiv1.ReasonInvalidField || len(detail.Violations) != 2 ||
		detail.Violations[1] != (FieldViolation{Field: "spec.replicas", Description: "must be at least 1"}) || detail.OmittedViolations != 3 {
		t.Fatalf("DetailOf = %+v", detail)
	}
	if !IsInvalidArgument(wrapped) || Attempts(wrapped) != 2 || connect.CodeOf(wrapped) != connect.CodeInvalidArgument {
		t.Error("a retried error does not unwrap to the last attempt's error")
	}
	if got := ViolationsText(err); got != "name: must be a DNS-1123 label\nspec.replicas: must be at least 1\n(3 more)" {
		t.Errorf("ViolationsText = %q", got)
	}
}

func withGeneration(vc *apiv1.VCluster, generation string, observed int64) *apiv1.VCluster {
	vc.Annotations[apiv1.AnnotationGeneration] = generation
	vc.Status.ObservedGeneration = observed
	return vc
}

func TestPhaseWaitsEndOnlyOnASettledState(t *testing.T) {
	// RUNNING with a suspend under way (generation 2 not yet observed) is not the RUNNING a
	// caller waits for; only the state that observed generation 2 is.
	s := &stateServer{current: withGeneration(phaseAt(apiv1.Phase_PHASE_RUNNING, "1"), "2", 1), updates: make(chan *apiv1.VCluster, 1)}
	c := serveState(t, s)
	s.updates <- withGeneration(phaseAt(apiv1.Phase_PHASE_RUNNING, "2"), "2", 2)
	vc, err := c.WaitUntilRunning(t.Context(), Ref{Name: "a"})
	if err != nil || ResourceVersionOf(vc) != "2" {
		t.Fatalf("resolved on %v (%v), want the settled state at version 2", vc, err)
	}
}

func TestIsSettled(t *testing.T) {
	for _, phase := range []apiv1.Phase{apiv1.Phase_PHASE_RUNNING, apiv1.Phase_PHASE_SUSPENDED, apiv1.Phase_PHASE_ERROR} {
		if !IsSettled(withGeneration(phaseAt(phase, "1"), "3", 3)) {
			t.Errorf("%v at its observed generation is settled", phase)
		}
		if IsSettled(withGeneration(phaseAt(phase, "1"), "3", 2)) {
			t.Errorf("%v behind its generation is not settled", phase)
		}
	}
	for _, phase := range []apiv1.Phase{apiv1.Phase_PHASE_UNSPECIFIED, apiv1.Phase_PHASE_PENDING, apiv1.Phase_PHASE_CREATING,
		apiv1.Phase_PHASE_UPDATING, apiv1.Phase_PHASE_SCALING, apiv1.Phase_PHASE_SNAPSHOTTING, apiv1.Phase_PHASE_RESTORING,
		apiv1.Phase_PHASE_RESUMING, apiv1.Phase_PHASE_DELETING} {
		if IsSettled(withGeneration(phaseAt(phase, "1"), "1", 1)) {
			t.Errorf("%v is not settled", phase)
		}
	}
	if IsSettled(&apiv1.VCluster{}) {
		t.Error("a vcluster without status is not settled")
	}
}
