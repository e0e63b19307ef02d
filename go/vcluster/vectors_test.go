package vcluster

// Runs the language-neutral vectors in contract/vectors (see its README) against this SDK,
// so it behaves exactly like the TypeScript core, which runs the same files.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"
	apiv1 "github.com/open-vcluster/open-vcluster/go/gen/vcluster/api/v1"
	"github.com/open-vcluster/open-vcluster/go/gen/vcluster/api/v1/apiv1connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"
)

func loadVectors(t *testing.T, file string, into any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "contract", "vectors", file))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, into); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

func TestVectorsLabelSelectors(t *testing.T) {
	var v struct {
		Parse []struct {
			Selector     string
			Canonical    *string
			Requirements []struct {
				Key      string
				Operator string
				Values   []string
			}
			ErrorOffset *int
		}
		Match []struct {
			Selector string
			Labels   map[string]string
			Matches  bool
		}
	}
	loadVectors(t, "label-selectors.json", &v)
	for _, c := range v.Parse {
		sel, err := ParseSelector(c.Selector)
		if c.ErrorOffset != nil {
			var se *SelectorError
			if !errors.As(err, &se) || se.Offset != *c.ErrorOffset {
				t.Errorf("ParseSelector(%q) = %v, want an error at offset %d", c.Selector, err, *c.ErrorOffset)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseSelector(%q): %v", c.Selector, err)
			continue
		}
		if sel.String() != *c.Canonical {
			t.Errorf("ParseSelector(%q).String() = %q, want %q", c.Selector, sel.String(), *c.Canonical)
		}
		got := make([]string, len(sel.Requirements))
		want := make([]string, len(c.Requirements))
		for i, r := range sel.Requirements {
			got[i] = fmt.Sprintf("%s %s %q", r.Key, r.Operator, r.Values)
		}
		for i, r := range c.Requirements {
			want[i] = fmt.Sprintf("%s %s %q", r.Key, r.Operator, r.Values)
		}
		if !slices.Equal(got, want) {
			t.Errorf("ParseSelector(%q) requirements = %v, want %v", c.Selector, got, want)
		}
	}
	for _, c := range v.Match {
		sel, err := ParseSelector(c.Selector)
		if err != nil {
			t.Fatal(err)
		}
		if sel.Matches(c.Labels) != c.Matches {
			t.Errorf("%q matches %v = %v, want %v", c.Selector, c.Labels, !c.Matches, c.Matches)
		}
	}
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestVectorsBackoff(t *testing.T) {
	var v struct {
		WatchDefaults struct{ BackoffInitialMs, BackoffMaxMs, HeartbeatTimeoutMs int }
		FullJitter    []struct {
			InitialMs, MaxMs   int
			Multiplier         float64
			Retry              int
			Random             float64
			DelayMs, CeilingMs int
		}
		Sequences []struct {
			InitialMs, MaxMs int
			Random           float64
			Steps            []struct {
				Op      string
				DelayMs int
			}
		}
	}
	loadVectors(t, "backoff.json", &v)
	if DefaultWatchBackoffInitial != ms(v.WatchDefaults.BackoffInitialMs) || DefaultWatchBackoffMax != ms(v.WatchDefaults.BackoffMaxMs) ||
		DefaultWatchHeartbeatTimeout != ms(v.WatchDefaults.HeartbeatTimeoutMs) {
		t.Errorf("watch defaults differ from %+v", v.WatchDefaults)
	}
	for _, c := range v.FullJitter {
		got := fullJitter(c.Retry, ms(c.InitialMs), ms(c.MaxMs), c.Multiplier, c.Random)
		if got != ms(c.DelayMs) {
			t.Errorf("fullJitter(%+v) = %v, want %d ms", c, got, c.DelayMs)
		}
		if ceiling := jitterCeiling(c.Retry, ms(c.InitialMs), ms(c.MaxMs), c.Multiplier); ceiling != ms(c.CeilingMs) {
			t.Errorf("ceiling(%+v) = %v, want %d ms", c, ceiling, c.CeilingMs)
		}
	}
	for _, s := range v.Sequences {
		b := backoff{initial: ms(s.InitialMs), max: ms(s.MaxMs), random: func() float64 { return s.Random }}
		for i, step := range s.Steps {
			if step.Op == "reset" {
				b.reset()
				continue
			}
			if got := b.next(); got != ms(step.DelayMs) {
				t.Errorf("sequence step %d: %v, want %d ms", i, got, step.DelayMs)
			}
		}
	}
}

type failureVector struct {
	Kind         string
	Code         string
	Reason       string
	RetryDelayMs *int
}

func codeNamed(t *testing.T, name string) connect.Code {
	t.Helper()
	var code connect.Code
	if err := code.UnmarshalText([]byte(name)); err != nil {
		t.Fatalf("code %q: %v", name, err)
	}
	return code
}

func (f failureVector) responseError(t *testing.T) error {
	err := connect.NewError(codeNamed(t, f.Code), errors.New("injected"))
	if f.Reason != "" || f.RetryDelayMs != nil {
		detail := &apiv1.ErrorDetail{Reason: f.Reason}
		if f.RetryDelayMs != nil {
			detail.RetryDelay = durationpb.New(ms(*f.RetryDelayMs))
		}
		d, derr := connect.NewErrorDetail(detail)
		if derr != nil {
			t.Fatal(derr)
		}
		err.AddDetail(d)
	}
	return err
}

// transportError is what net/http reports for the failures that happen before a request is read.
func (f failureVector) transportError() error {
	switch f.Kind {
	case "connection_refused":
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	case "refused_stream":
		return errors.New("http2: stream error: stream ID 1; REFUSED_STREAM")
	}
	return nil
}

// emptyService answers every unary RPC with an empty response.
type emptyService struct {
	apiv1connect.UnimplementedVClusterServiceHandler
	apiv1connect.UnimplementedSnapshotServiceHandler
}

func empty[Res any](context.Context, any) (*connect.Response[Res], error) {
	return connect.NewResponse(new(Res)), nil
}

func (emptyService) CreateVCluster(ctx context.Context, r *connect.Request[apiv1.CreateVClusterRequest]) (*connect.Response[apiv1.CreateVClusterResponse], error) {
	return empty[apiv1.CreateVClusterResponse](ctx, r)
}
func (emptyService) GetVCluster(ctx context.Context, r *connect.Request[apiv1.GetVClusterRequest]) (*connect.Response[apiv1.GetVClusterResponse], error) {
	return empty[apiv1.GetVClusterResponse](ctx, r)
}
func (emptyService) ListVClusters(ctx context.Context, r *connect.Request[apiv1.ListVClustersRequest]) (*connect.Response[apiv1.ListVClustersResponse], error) {
	return empty[apiv1.ListVClustersResponse](ctx, r)
}
func (emptyService) UpdateVCluster(ctx context.Context, r *connect.Request[apiv1.UpdateVClusterRequest]) (*connect.Response[apiv1.UpdateVClusterResponse], error) {
	return empty[apiv1.UpdateVClusterResponse](ctx, r)
}
func (emptyService) DeleteVCluster(ctx context.Context, r *connect.Request[apiv1.DeleteVClusterRequest]) (*connect.Response[apiv1.DeleteVClusterResponse], error) {
	return empty[apiv1.DeleteVClusterResponse](ctx, r)
}
func (emptyService) ScaleVCluster(ctx context.Context, r *connect.Request[apiv1.ScaleVClusterRequest]) (*connect.Response[apiv1.ScaleVClusterResponse], error) {
	return empty[apiv1.ScaleVClusterResponse](ctx, r)
}
func (emptyService) SuspendVCluster(ctx context.Context, r *connect.Request[apiv1.SuspendVClusterRequest]) (*connect.Response[apiv1.SuspendVClusterResponse], error) {
	return empty[apiv1.SuspendVClusterResponse](ctx, r)
}
func (emptyService) ResumeVCluster(ctx context.Context, r *connect.Request[apiv1.ResumeVClusterRequest]) (*connect.Response[apiv1.ResumeVClusterResponse], error) {
	return empty[apiv1.ResumeVClusterResponse](ctx, r)
}
func (emptyService) SnapshotVCluster(ctx context.Context, r *connect.Request[apiv1.SnapshotVClusterRequest]) (*connect.Response[apiv1.SnapshotVClusterResponse], error) {
	return empty[apiv1.SnapshotVClusterResponse](ctx, r)
}
func (emptyService) RestoreVCluster(ctx context.Context, r *connect.Request[apiv1.RestoreVClusterRequest]) (*connect.Response[apiv1.RestoreVClusterResponse], error) {
	return empty[apiv1.RestoreVClusterResponse](ctx, r)
}
func (emptyService) GetVClusterKubeconfig(ctx context.Context, r *connect.Request[apiv1.GetVClusterKubeconfigRequest]) (*connect.Response[apiv1.GetVClusterKubeconfigResponse], error) {
	return empty[apiv1.GetVClusterKubeconfigResponse](ctx, r)
}
func (emptyService) ListSnapshots(ctx context.Context, r *connect.Request[apiv1.ListSnapshotsRequest]) (*connect.Response[apiv1.ListSnapshotsResponse], error) {
	return empty[apiv1.ListSnapshotsResponse](ctx, r)
}
func (emptyService) GetSnapshot(ctx context.Context, r *connect.Request[apiv1.GetSnapshotRequest]) (*connect.Response[apiv1.GetSnapshotResponse], error) {
	return empty[apiv1.GetSnapshotResponse](ctx, r)
}
func (emptyService) DeleteSnapshot(ctx context.Context, r *connect.Request[apiv1.DeleteSnapshotRequest]) (*connect.Response[apiv1.DeleteSnapshotResponse], error) {
	return empty[apiv1.DeleteSnapshotResponse](ctx, r)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// retryHarness serves empty responses after the scripted failures and records every attempt.
type retryHarness struct {
	mu         sync.Mutex
	failures   []failureVector
	attempts   int
	requestIDs []string
	hasID      bool
	delays     []time.Duration
}

func (h *retryHarness) next() (failureVector, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.failures) == 0 {
		return failureVector{}, false
	}
	f := h.failures[0]
	h.failures = h.failures[1:]
	return f, true
}

func newRetryHarness(t *testing.T, failures []failureVector, policy RetryPolicy) (*retryHarness, *Client) {
	h := &retryHarness{failures: failures}
	// Server-side failures: the server answered with an error.
	var pendingResponse *failureVector
	serverFaults := connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			h.mu.Lock()
			f := pendingResponse
			pendingResponse = nil
			h.mu.Unlock()
			if f != nil {
				return nil, f.responseError(t)
			}
			return next(ctx, req)
		}
	})
	mux := http.NewServeMux()
	mux.Handle(apiv1connect.NewVClusterServiceHandler(emptyService{}, connect.WithInterceptors(serverFaults)))
	mux.Handle(apiv1connect.NewSnapshotServiceHandler(emptyService{}, connect.WithInterceptors(serverFaults)))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	// Client-side failures happen in the transport, before the server reads the request.
	transport := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if f, ok := h.next(); ok {
			if err := f.transportError(); err != nil {
				return nil, err
			}
			h.mu.Lock()
			pendingResponse = &f
			h.mu.Unlock()
		}
		return http.DefaultTransport.RoundTrip(r)
	})
	record := connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			h.mu.Lock()
			h.attempts++
			m := req.Any().(proto.Message).ProtoReflect()
			if fd := m.Descriptor().Fields().ByName("request_id"); fd != nil {
				h.hasID = true
				h.requestIDs = append(h.requestIDs, m.Get(fd).String())
			}
			h.mu.Unlock()
			return next(ctx, req)
		}
	})
	policy.OnRetry = func(e RetryEvent) { h.delays = append(h.delays, e.Delay) }
	if policy.sleep == nil {
		policy.sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	}
	client, err := New(srv.URL, WithRetry(policy), WithHTTPClient(&http.Client{Transport: transport}), WithInterceptors(record))
	if err != nil {
		t.Fatal(err)
	}
	return h, client
}

// callProcedure calls a unary method by its name with the given request fields set.
func callProcedure(ctx context.Context, t *testing.T, c *Client, procedure string, callerRequestID string) error {
	t.Helper()
	target := reflect.ValueOf(c.VClusterService)
	if strings.HasPrefix(procedure, "vcluster.api.v1.SnapshotService/") {
		target = reflect.ValueOf(c.SnapshotService)
	}
	method := target.MethodByName(procedure[strings.Index(procedure, "/")+1:])
	if !method.IsValid() {
		t.Fatalf("unknown procedure %s", procedure)
	}
	reqType := method.Type().In(1) // *connect.Request[T]
	msgType := reqType.Elem().Field(0).Type.Elem()
	msg := reflect.New(msgType).Interface().(proto.Message)
	if callerRequestID != "" {
		m := msg.ProtoReflect()
		m.Set(m.Descriptor().Fields().ByName("request_id"), protoreflect.ValueOfString(callerRequestID))
	}
	req := reflect.New(reqType.Elem())
	req.Elem().Field(0).Set(reflect.ValueOf(msg))
	out := method.Call([]reflect.Value{reflect.ValueOf(ctx), req})
	if err, _ := out[1].Interface().(error); err != nil {
		return err
	}
	return nil
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestVectorsRetry(t *testing.T) {
	type budgetOptions struct{ Capacity, RetryCost, TimeoutRetryCost, SuccessRefill int }
	var v struct {
		Defaults struct {
			MaxAttempts, BaseDelayMs, ThrottledBaseDelayMs, MaxDelayMs int
			Budget                                                     budgetOptions
		}
		Decisions []struct {
			Procedure       string
			Failure         failureVector
			CallerRequestID string `json:"callerRequestId"`
			Retry           bool
			RequestID       string `json:"requestId"`
		}
		Sequences []struct {
			Name      string
			Procedure string
			Random    float64
			TimeoutMs int
			Options   struct {
				MaxAttempts int
				BaseDelayMs int
				Budget      budgetOptions
			}
			Failures []failureVector
			Expect   struct {
				Outcome  string
				Code     string
				Attempts int
				DelaysMs []int
			}
		}
		Budget []struct {
			Options budgetOptions
			Steps   []struct {
				Op            string
				AfterTimeout  bool
				LastRetryCost *int
				Taken         *int
				Available     int
			}
		}
	}
	loadVectors(t, "retry.json", &v)

	d := DefaultRetryPolicy()
	if d.MaxAttempts != v.Defaults.MaxAttempts || d.BaseDelay != ms(v.Defaults.BaseDelayMs) ||
		d.ThrottledBaseDelay != ms(v.Defaults.ThrottledBaseDelayMs) || d.MaxDelay != ms(v.Defaults.MaxDelayMs) ||
		budgetOptions(d.Budget) != v.Defaults.Budget {
		t.Errorf("DefaultRetryPolicy() = %+v, vectors say %+v", d, v.Defaults)
	}

	for _, c := range v.Decisions {
		name := fmt.Sprintf("%s %s %s %s %s", c.Procedure, c.Failure.Kind, c.Failure.Code, c.Failure.Reason, c.CallerRequestID)
		t.Run(name, func(t *testing.T) {
			h, client := newRetryHarness(t, []failureVector{c.Failure}, RetryPolicy{random: func() float64 { return 0 }})
			_ = callProcedure(t.Context(), t, client, c.Procedure, c.CallerRequestID)
			want := 1
			if c.Retry {
				want = 2
			}
			if h.attempts != want {
				t.Errorf("%d attempts, want %d", h.attempts, want)
			}
			switch c.RequestID {
			case "caller":
				for _, id := range h.requestIDs {
					if id != c.CallerRequestID {
						t.Errorf("request ids %q, want the caller's on every attempt", h.requestIDs)
					}
				}
			case "generated":
				if len(h.requestIDs) == 0 || !uuidV4.MatchString(h.requestIDs[0]) || slices.Compact(slices.Clone(h.requestIDs))[0] != h.requestIDs[0] || len(slices.Compact(slices.Clone(h.requestIDs))) != 1 {
					t.Errorf("request ids %q, want one UUIDv4 on every attempt", h.requestIDs)
				}
			default:
				if h.hasID {
					t.Errorf("method has a request_id the vectors do not expect")
				}
			}
		})
	}

	for _, s := range v.Sequences {
		t.Run(s.Name, func(t *testing.T) {
			policy := RetryPolicy{
				MaxAttempts: s.Options.MaxAttempts,
				BaseDelay:   ms(s.Options.BaseDelayMs),
				Budget:      RetryBudget(s.Options.Budget),
				random:      func() float64 { return s.Random },
			}
			h, client := newRetryHarness(t, s.Failures, policy)
			ctx := t.Context()
			if s.TimeoutMs > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, ms(s.TimeoutMs))
				defer cancel()
			}
			err := callProcedure(ctx, t, client, s.Procedure, "")
			outcome := "ok"
			if err != nil {
				outcome = "error"
				if got := connect.CodeOf(err); got != codeNamed(t, s.Expect.Code) {
					t.Errorf("code %v, want %s", got, s.Expect.Code)
				}
				if Attempts(err) != s.Expect.Attempts {
					t.Errorf("Attempts(err) = %d, want %d (%v)", Attempts(err), s.Expect.Attempts, err)
				}
				if s.Expect.Attempts > 1 && !strings.Contains(err.Error(), fmt.Sprintf("after %d attempts", s.Expect.Attempts)) {
					t.Errorf("error %q does not say how many attempts were made", err)
				}
			}
			if outcome != s.Expect.Outcome || h.attempts != s.Expect.Attempts {
				t.Errorf("%s after %d attempts (%v), want %s after %d", outcome, h.attempts, err, s.Expect.Outcome, s.Expect.Attempts)
			}
			delays := make([]int, len(h.delays))
			for i, d := range h.delays {
				delays[i] = int(d.Milliseconds())
			}
			if !slices.Equal(delays, s.Expect.DelaysMs) {
				t.Errorf("delays %v ms, want %v", delays, s.Expect.DelaysMs)
			}
			if h.hasID && len(slices.Compact(slices.Clone(h.requestIDs))) != 1 {
				t.Errorf("request ids %q differ between attempts", h.requestIDs)
			}
		})
	}

	for i, script := range v.Budget {
		b := newTokenBucket(RetryBudget(script.Options).resolved())
		for j, step := range script.Steps {
			if step.Op == "acquire" {
				taken := b.acquire(step.AfterTimeout)
				want := 0
				if step.Taken != nil {
					want = *step.Taken
				}
				if taken != want {
					t.Errorf("budget %d step %d: took %d, want %d", i, j, taken, want)
				}
			} else {
				last := 0
				if step.LastRetryCost != nil {
					last = *step.LastRetryCost
				}
				b.succeeded(last)
			}
			if b.available() != step.Available {
				t.Errorf("budget %d step %d: %d available, want %d", i, j, b.available(), step.Available)
			}
		}
	}
}

func TestVectorsPaging(t *testing.T) {
	var v struct {
		Scenarios []struct {
			Name           string
			StartToken     string
			StopAfterItems int
			Pages          map[string]struct {
				Items         []string
				NextPageToken string
			}
			Expect struct {
				Items           []string
				RequestedTokens []string
				Error           *struct{ Kind, PageToken string }
			}
		}
	}
	loadVectors(t, "paging.json", &v)
	for _, s := range v.Scenarios {
		t.Run(s.Name, func(t *testing.T) {
			var requested []string
			fetch := func(_ context.Context, token string) (*Page[string], error) {
				requested = append(requested, token)
				p, ok := s.Pages[token]
				if !ok {
					return nil, fmt.Errorf("no page for token %q", token)
				}
				return &Page[string]{Items: p.Items, NextPageToken: p.NextPageToken}, nil
			}
			got := []string{}
			var gotErr error
			for item, err := range items(pages(t.Context(), s.StartToken, fetch)) {
				if err != nil {
					gotErr = err
					break
				}
				got = append(got, item)
				if len(got) == s.StopAfterItems {
					break
				}
			}
			if !slices.Equal(got, append([]string{}, s.Expect.Items...)) || !slices.Equal(requested, s.Expect.RequestedTokens) {
				t.Errorf("items %q tokens %q, want %q %q", got, requested, s.Expect.Items, s.Expect.RequestedTokens)
			}
			var rpt *RepeatedPageTokenError
			switch {
			case s.Expect.Error == nil && gotErr != nil:
				t.Errorf("unexpected error %v", gotErr)
			case s.Expect.Error != nil && (!errors.As(gotErr, &rpt) || rpt.PageToken != s.Expect.Error.PageToken):
				t.Errorf("error %v, want a repeated page token %q", gotErr, s.Expect.Error.PageToken)
			}
		})
	}
}
