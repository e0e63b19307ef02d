package vcluster

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	apiv1 "github.com/open-vcluster/open-vcluster/go/gen/vcluster/api/v1"
	"google.golang.org/protobuf/proto"
)

// ConnectionStatus is the state of a resumable watch.
type ConnectionStatus int

// The states of a watch's connection.
const (
	StatusConnecting ConnectionStatus = iota
	StatusConnected
	StatusReconnecting
	StatusClosed
)

func (s ConnectionStatus) String() string {
	return [...]string{"connecting", "connected", "reconnecting", "closed"}[s]
}

// WatchEvent is one change delivered by a watch. Heartbeats are consumed by the watch and
// never delivered.
type WatchEvent struct {
	// Type is ADDED, MODIFIED or DELETED.
	Type apiv1.WatchEventType
	// VCluster is the object after the change; for DELETED its final state.
	VCluster        *apiv1.VCluster
	ResourceVersion string
}

// WatchOptions tune a watch. Zero fields take the client's defaults (WithWatchDefaults),
// then the package defaults.
type WatchOptions struct {
	// BackoffInitial and BackoffMax bound the full-jitter reconnect delay, which resets once a
	// stream delivers a message. Defaults 800 ms and 30 s.
	BackoffInitial, BackoffMax time.Duration
	// HeartbeatTimeout replaces a stream that is silent this long. Default 15 s: three of the
	// server's 5 s heartbeats.
	HeartbeatTimeout time.Duration
	// OnStatus is called on every change of the connection status, with the error that
	// caused a reconnect.
	OnStatus func(ConnectionStatus, error)
	// OnBookmark is called with each heartbeat's version: nothing up to it is pending.
	OnBookmark func(resourceVersion string)
	// Header is sent when opening each stream.
	Header http.Header
}

// Watch defaults.
const (
	DefaultWatchBackoffInitial   = 800 * time.Millisecond
	DefaultWatchBackoffMax       = 30 * time.Second
	DefaultWatchHeartbeatTimeout = 15 * time.Second
)

func (o WatchOptions) merged(defaults WatchOptions) WatchOptions {
	pick := func(v, d, fallback time.Duration) time.Duration {
		if v > 0 {
			return v
		}
		if d > 0 {
			return d
		}
		return fallback
	}
	o.BackoffInitial = pick(o.BackoffInitial, defaults.BackoffInitial, DefaultWatchBackoffInitial)
	o.BackoffMax = pick(o.BackoffMax, defaults.BackoffMax, DefaultWatchBackoffMax)
	o.HeartbeatTimeout = pick(o.HeartbeatTimeout, defaults.HeartbeatTimeout, DefaultWatchHeartbeatTimeout)
	if o.Header == nil {
		o.Header = defaults.Header
	}
	return o
}

// Watch is a WatchVCluster stream that survives disconnects: it resumes from the newest
// version seen, skips replayed events, replaces streams whose heartbeats stop, backs off with
// jitter between reconnects, and ends only with an error: the context's when it is done, or
// one that retrying cannot fix (Unauthenticated, PermissionDenied, InvalidArgument,
// Unimplemented, or an expired version: IsResourceVersionExpired, the cue to list again).
type Watch struct {
	client  *Client
	request *apiv1.WatchVClusterRequest
	options WatchOptions
	backoff backoff

	mu      sync.Mutex
	last    string
	status  ConnectionStatus
	started atomic.Bool
	// A watch from "" first receives the current state as ADDED events in no particular
	// version order, so de-duplication by version starts only at the first heartbeat, which
	// marks the end of that state. Until then a reconnect starts over from "".
	initialState       bool
	initialStateNewest string
	// sent is the token the current stream was opened with; credentialsRefreshed is set once
	// a refused stream was retried with a fresh token, and cleared when a stream delivers.
	sent                 sentToken
	credentialsRefreshed bool
}

// Watch returns a resumable watch of the vclusters req selects, starting after
// req.ResourceVersion ("" first delivers every matching vcluster as ADDED).
func (c *Client) Watch(req *apiv1.WatchVClusterRequest, opts WatchOptions) *Watch {
	r := cloneOrNew(req)
	o := opts.merged(c.watchDefaults)
	return &Watch{
		client:       c,
		request:      r,
		options:      o,
		backoff:      backoff{initial: o.BackoffInitial, max: o.BackoffMax, random: c.random},
		last:         r.GetResourceVersion(),
		initialState: r.GetResourceVersion() == "",
	}
}

// ResourceVersion is the newest version delivered or bookmarked: where the next stream resumes.
func (w *Watch) ResourceVersion() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last
}

// Status is the current connection status.
func (w *Watch) Status() ConnectionStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.status
}

func (w *Watch) setStatus(s ConnectionStatus, err error) {
	w.mu.Lock()
	changed := w.status != s
	w.status = s
	w.mu.Unlock()
	if changed && w.options.OnStatus != nil {
		w.options.OnStatus(s, err)
	}
}

// errWatchEnded stands for a stream the server ended cleanly: a watch never ends silently.
var errWatchEnded = connect.NewError(connect.CodeUnavailable, errors.New("watch stream ended by the server"))

// Events runs the watch until ctx is done, the consumer stops, or a permanent error. The
// sequence yields events with a nil error and ends with exactly one non-nil error (unless the
// consumer stops first). A Watch can be iterated once.
func (w *Watch) Events(ctx context.Context) iter.Seq2[WatchEvent, error] {
	return func(yield func(WatchEvent, error) bool) {
		if w.started.Swap(true) {
			yield(WatchEvent{}, errors.New("vcluster: a watch can be iterated only once; create another for a second consumer"))
			return
		}
		defer w.setStatus(StatusClosed, nil)
		if w.options.OnStatus != nil {
			w.options.OnStatus(StatusConnecting, nil)
		}
		for opened := false; ; opened = true {
			if opened {
				w.setStatus(StatusReconnecting, nil)
			}
			stopped, err := w.streamOnce(ctx, yield)
			if stopped {
				return
			}
			if ctx.Err() != nil {
				yield(WatchEvent{}, ctx.Err())
				return
			}
			if err == nil {
				err = errWatchEnded
			}
			if w.retryWithFreshCredentials(err) {
				w.setStatus(StatusReconnecting, err)
				continue
			}
			if endsWatch(err) {
				yield(WatchEvent{}, err)
				return
			}
			w.setStatus(StatusReconnecting, err)
			if sleepContext(ctx, w.backoff.next()) != nil {
				yield(WatchEvent{}, ctx.Err())
				return
			}
		}
	}
}

// retryWithFreshCredentials: a refused stream (its token expired or was revoked) drops that
// token and reconnects at once, once; refused again without a message in between, the watch
// ends (the credentials themselves are wrong).
func (w *Watch) retryWithFreshCredentials(err error) bool {
	if connect.CodeOf(err) != connect.CodeUnauthenticated || w.credentialsRefreshed || w.client.invalidateToken == nil {
		return false
	}
	w.client.invalidateToken(w.sent.get())
	w.credentialsRefreshed = true
	return true
}

// endsWatch: retrying cannot help; the credentials, permissions or request must change first,
// or (expired version) the caller must list again.
func endsWatch(err error) bool {
	switch connect.CodeOf(err) {
	case connect.CodeUnauthenticated, connect.CodePermissionDenied, connect.CodeInvalidArgument, connect.CodeUnimplemented:
		return true
	}
	return IsResourceVersionExpired(err)
}

// streamOnce runs one stream until it fails; it yields only events newer than everything
// seen before. stopped reports that the consumer stopped the iteration.
func (w *Watch) streamOnce(ctx context.Context, yield func(WatchEvent, error) bool) (stopped bool, err error) {
	actx, cancel := context.WithCancel(context.WithValue(ctx, sentTokenKey{}, &w.sent))
	defer cancel()
	timeout := w.options.HeartbeatTimeout
	var silent atomic.Bool
	timer := time.AfterFunc(timeout, func() {
		silent.Store(true)
		cancel()
	})
	defer timer.Stop()
	req := proto.CloneOf(w.request)
	req.ResourceVersion = w.ResourceVersion()
	creq := connect.NewRequest(req)
	for k, vs := range w.options.Header {
		for _, v := range vs {
			creq.Header().Add(k, v)
		}
	}
	stream, err := w.client.VClusterService.WatchVCluster(actx, creq)
	if err != nil {
		return false, w.silentOr(&silent, err)
	}
	defer stream.Close()
	for stream.Receive() {
		// The liveness timer pauses while the consumer holds an event, so a slow consumer is
		// not mistaken for a dead server.
		timer.Stop()
		w.setStatus(StatusConnected, nil)
		w.backoff.reset()
		w.credentialsRefreshed = false
		msg := stream.Msg()
		version := ResourceVersionOf(msg.GetVcluster())
		switch msg.GetType() {
		case apiv1.WatchEventType_WATCH_EVENT_TYPE_UNSPECIFIED, apiv1.WatchEventType_WATCH_EVENT_TYPE_ERROR:
			w.mu.Lock()
			w.initialState = false
			w.last = newerVersion(newerVersion(w.last, w.initialStateNewest), version)
			w.mu.Unlock()
			if w.options.OnBookmark != nil {
				w.options.OnBookmark(version)
			}
		default:
			if msg.GetVcluster() == nil || !w.accept(version) {
				break
			}
			if !yield(WatchEvent{Type: msg.GetType(), VCluster: msg.GetVcluster(), ResourceVersion: version}, nil) {
				return true, nil
			}
		}
		if silent.Load() {
			break
		}
		timer.Reset(timeout)
	}
	return false, w.silentOr(&silent, stream.Err())
}

func (w *Watch) silentOr(silent *atomic.Bool, err error) error {
	if silent.Load() {
		return connect.NewError(connect.CodeDeadlineExceeded, fmt.Errorf("no message or heartbeat for %v", w.options.HeartbeatTimeout))
	}
	return err
}

// accept reports whether an event at version is new, and records it.
func (w *Watch) accept(version string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.initialState {
		w.initialStateNewest = newerVersion(w.initialStateNewest, version)
		return true
	}
	if CompareResourceVersions(version, w.last) <= 0 {
		return false
	}
	w.last = version
	return true
}

// ResourceVersionOf returns the resource version the server stamped on vc; "" when absent.
func ResourceVersionOf(vc *apiv1.VCluster) string {
	return vc.GetAnnotations()[apiv1.AnnotationResourceVersion]
}

// CompareResourceVersions orders two resource versions (decimal strings of any length, ""
// lowest) and returns -1, 0 or +1.
func CompareResourceVersions(a, b string) int {
	a, b = stripZeros(a), stripZeros(b)
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

func stripZeros(v string) string {
	i := 0
	for i < len(v)-1 && v[i] == '0' {
		i++
	}
	return v[i:]
}

func newerVersion(a, b string) string {
	if CompareResourceVersions(a, b) >= 0 {
		return a
	}
	return b
}
