package vcluster

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	apiv1 "github.com/open-vcluster/open-vcluster/go/gen/vcluster/api/v1"
	"github.com/open-vcluster/open-vcluster/go/gen/vcluster/api/v1/apiv1connect"
)

type scriptMessage struct {
	Type            string
	Object          string
	ResourceVersion string
}

type scriptStep struct {
	Call            string
	PageToken       string
	ResourceVersion *string
	Items           []string
	NextPageToken   string
	Error           string
	Send            []scriptMessage
	End             string
}

type scriptExpect struct {
	Events []string
	Cache  []string
	Error  string
}

var objectPattern = regexp.MustCompile(`^(\S+) ([^/\s]+)/([^@\s]+)@(\d+)$`)

func parseObject(t *testing.T, text string) *apiv1.VCluster {
	m := objectPattern.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("bad object %q", text)
	}
	return &apiv1.VCluster{Id: m[1], Namespace: m[2], Name: m[3], Annotations: map[string]string{apiv1.AnnotationResourceVersion: m[4]}}
}

func formatObject(vc *apiv1.VCluster) string {
	return fmt.Sprintf("%s %s/%s@%s", vc.GetId(), vc.GetNamespace(), vc.GetName(), ResourceVersionOf(vc))
}

func eventText(typ apiv1.WatchEventType, vc *apiv1.VCluster) string {
	return strings.TrimPrefix(typ.String(), "WATCH_EVENT_TYPE_") + " " + formatObject(vc)
}

// scriptedBackend answers List and Watch calls from a script, in order, and records every
// call that differs from it (answered with Unimplemented, which ends any watch).
type scriptedBackend struct {
	apiv1connect.UnimplementedVClusterServiceHandler
	t          *testing.T
	mu         sync.Mutex
	steps      []scriptStep
	next       int
	mismatches []string
	reachedEnd bool
	changed    chan struct{}
}

func (b *scriptedBackend) notify() {
	select {
	case b.changed <- struct{}{}:
	default:
	}
}

func (b *scriptedBackend) take(call, version string) (scriptStep, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	defer b.notify()
	got := fmt.Sprintf("%s %q", call, version)
	want := "end of script"
	if b.next < len(b.steps) {
		s := b.steps[b.next]
		v := s.PageToken
		if s.Call == "watch" {
			v = *s.ResourceVersion
		}
		want = fmt.Sprintf("%s %q", s.Call, v)
	}
	if got != want {
		b.mismatches = append(b.mismatches, fmt.Sprintf("call %d: got %s, script expects %s", b.next+1, got, want))
		return scriptStep{}, connect.NewError(connect.CodeUnimplemented, errors.New("unexpected call "+got))
	}
	step := b.steps[b.next]
	b.next++
	b.reachedEnd = b.next == len(b.steps)
	return step, nil
}

func scriptedError(t *testing.T, end string) error {
	switch end {
	case "disconnect":
		return connect.NewError(connect.CodeUnavailable, errors.New("connection reset"))
	case "expired":
		err := connect.NewError(connect.CodeOutOfRange, errors.New("too old"))
		d, _ := connect.NewErrorDetail(&apiv1.ErrorDetail{Reason: apiv1.ReasonResourceVersionExpired})
		err.AddDetail(d)
		return err
	}
	return connect.NewError(codeNamed(t, end), errors.New("scripted "+end))
}

func (b *scriptedBackend) ListVClusters(_ context.Context, req *connect.Request[apiv1.ListVClustersRequest]) (*connect.Response[apiv1.ListVClustersResponse], error) {
	step, err := b.take("list", req.Msg.GetPageToken())
	if err != nil {
		return nil, err
	}
	if step.Error != "" {
		return nil, connect.NewError(codeNamed(b.t, step.Error), errors.New("scripted failure"))
	}
	res := connect.NewResponse(&apiv1.ListVClustersResponse{NextPageToken: step.NextPageToken})
	for _, item := range step.Items {
		res.Msg.Vclusters = append(res.Msg.Vclusters, parseObject(b.t, item))
	}
	if step.ResourceVersion != nil {
		res.Header().Set(apiv1.ResponseHeaderResourceVersion, *step.ResourceVersion)
	}
	return res, nil
}

func (b *scriptedBackend) WatchVCluster(ctx context.Context, req *connect.Request[apiv1.WatchVClusterRequest], stream *connect.ServerStream[apiv1.WatchVClusterResponse]) error {
	step, err := b.take("watch", req.Msg.GetResourceVersion())
	if err != nil {
		return err
	}
	for _, m := range step.Send {
		msg := &apiv1.WatchVClusterResponse{}
		if m.Type == "HEARTBEAT" {
			msg.Vcluster = &apiv1.VCluster{Annotations: map[string]string{apiv1.AnnotationResourceVersion: m.ResourceVersion}}
		} else {
			msg.Type = apiv1.WatchEventType(apiv1.WatchEventType_value["WATCH_EVENT_TYPE_"+m.Type])
			msg.Vcluster = parseObject(b.t, m.Object)
		}
		if err := stream.Send(msg); err != nil {
			return err
		}
	}
	switch step.End {
	case "close":
		return nil
	case "open":
		<-ctx.Done()
		return nil
	}
	return scriptedError(b.t, step.End)
}

func errorName(err error) string {
	if IsResourceVersionExpired(err) {
		return "expired"
	}
	return connect.CodeOf(err).String()
}

func scriptedClient(t *testing.T, steps []scriptStep) (*scriptedBackend, *Client) {
	b := &scriptedBackend{t: t, steps: steps, changed: make(chan struct{}, 1)}
	mux := http.NewServeMux()
	mux.Handle(apiv1connect.NewVClusterServiceHandler(b))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	client, err := New(srv.URL, WithoutRetry(), withRandom(func() float64 { return 0 }))
	if err != nil {
		t.Fatal(err)
	}
	return b, client
}

// until re-checks cond whenever something changes, for at most a generous ceiling.
func until(t *testing.T, changed <-chan struct{}, cond func() bool) {
	t.Helper()
	ceiling := time.After(20 * time.Second)
	for !cond() {
		select {
		case <-changed:
		case <-ceiling:
			t.Fatal("condition not reached")
		}
	}
}

func TestVectorsWatchRecovery(t *testing.T) {
	var v struct {
		Watch []struct {
			Name            string
			ResourceVersion string
			Steps           []scriptStep
			Expect          scriptExpect
		}
		Informer []struct {
			Name   string
			Steps  []scriptStep
			Expect scriptExpect
		}
	}
	loadVectors(t, "watch-recovery.json", &v)

	for _, s := range v.Watch {
		t.Run("watch: "+s.Name, func(t *testing.T) {
			b, client := scriptedClient(t, s.Steps)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var mu sync.Mutex
			var events []string
			var final error
			finished := false
			go func() {
				for ev, err := range client.Watch(&apiv1.WatchVClusterRequest{ResourceVersion: s.ResourceVersion}, WatchOptions{}).Events(ctx) {
					mu.Lock()
					if err != nil {
						final = err
					} else {
						events = append(events, eventText(ev.Type, ev.VCluster))
					}
					mu.Unlock()
					b.notify()
				}
				mu.Lock()
				finished = true
				mu.Unlock()
				b.notify()
			}()
			until(t, b.changed, func() bool {
				mu.Lock()
				defer mu.Unlock()
				b.mu.Lock()
				defer b.mu.Unlock()
				return finished || s.Expect.Error == "" && b.reachedEnd && len(events) >= len(s.Expect.Events)
			})
			cancel()
			until(t, b.changed, func() bool { mu.Lock(); defer mu.Unlock(); return finished })
			if len(b.mismatches) > 0 {
				t.Errorf("calls differ from the script: %v", b.mismatches)
			}
			if !slices.Equal(events, append([]string{}, s.Expect.Events...)) {
				t.Errorf("events\n got %q\nwant %q", events, s.Expect.Events)
			}
			if s.Expect.Error == "" && !errors.Is(final, context.Canceled) {
				t.Errorf("ended with %v, want the cancellation", final)
			}
			if s.Expect.Error != "" && (final == nil || errorName(final) != s.Expect.Error) {
				t.Errorf("ended with %v, want %s", final, s.Expect.Error)
			}
		})
	}

	for _, s := range v.Informer {
		t.Run("informer: "+s.Name, func(t *testing.T) {
			b, client := scriptedClient(t, s.Steps)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			informer := client.NewInformer(InformerOptions{})
			var mu sync.Mutex
			var events []string
			informer.AddHandler(Handler{OnEvent: func(e CacheEvent) {
				mu.Lock()
				events = append(events, eventText(e.Type, e.VCluster))
				mu.Unlock()
				b.notify()
			}})
			// The iterator form must see exactly what the handlers see.
			iterated := make(chan []string, 1)
			changes := informer.Events(t.Context())
			go func() {
				var seen []string
				for c, err := range changes {
					if err != nil {
						break
					}
					seen = append(seen, eventText(c.Type, c.VCluster))
				}
				iterated <- seen
			}()
			var runErr error
			finished := false
			go func() {
				err := informer.Run(ctx)
				mu.Lock()
				runErr, finished = err, true
				mu.Unlock()
				b.notify()
			}()
			cacheView := func() []string {
				var out []string
				for _, vc := range informer.List() {
					out = append(out, formatObject(vc))
				}
				slices.Sort(out)
				return out
			}
			want := slices.Sorted(slices.Values(s.Expect.Cache))
			until(t, b.changed, func() bool {
				mu.Lock()
				defer mu.Unlock()
				b.mu.Lock()
				defer b.mu.Unlock()
				return finished || s.Expect.Error == "" && b.reachedEnd && len(events) >= len(s.Expect.Events) && slices.Equal(cacheView(), want)
			})
			cancel()
			until(t, b.changed, func() bool { mu.Lock(); defer mu.Unlock(); return finished })
			if len(b.mismatches) > 0 {
				t.Errorf("calls differ from the script: %v", b.mismatches)
			}
			if !slices.Equal(events, append([]string{}, s.Expect.Events...)) {
				t.Errorf("events\n got %q\nwant %q", events, s.Expect.Events)
			}
			if got := cacheView(); !slices.Equal(got, want) {
				t.Errorf("cache %q, want %q", got, want)
			}
			if seen := <-iterated; !slices.Equal(seen, events) {
				t.Errorf("Events yielded %q, handlers saw %q", seen, events)
			}
			if !informer.HasSynced() {
				t.Error("informer never synced")
			}
			if s.Expect.Error == "" && !errors.Is(runErr, context.Canceled) {
				t.Errorf("Run returned %v, want the cancellation", runErr)
			}
			if s.Expect.Error != "" && (runErr == nil || errorName(runErr) != s.Expect.Error) {
				t.Errorf("Run returned %v, want %s", runErr, s.Expect.Error)
			}
		})
	}
}
