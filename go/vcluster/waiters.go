package vcluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"connectrpc.com/connect"
	apiv1 "github.com/open-vcluster/open-vcluster/go/gen/vcluster/api/v1"
)

// Ref names a vcluster. An empty Namespace means "default".
type Ref struct {
	Namespace string
	Name      string
}

func (r Ref) namespace() string {
	if r.Namespace == "" {
		return "default"
	}
	return r.Namespace
}

// DefaultWaitTimeout limits a wait whose context has no deadline.
const DefaultWaitTimeout = 10 * time.Minute

// WaitOption tunes a wait.
type WaitOption func(*waitConfig)

type waitConfig struct {
	timeout    time.Duration
	onProgress func(*apiv1.VCluster)
	after      *apiv1.VCluster
}

// WithWaitTimeout limits the wait (default DefaultWaitTimeout when ctx has no deadline).
func WithWaitTimeout(d time.Duration) WaitOption { return func(c *waitConfig) { c.timeout = d } }

// OnProgress is called with every state the wait observes, the first one included.
func OnProgress(f func(*apiv1.VCluster)) WaitOption { return func(c *waitConfig) { c.onProgress = f } }

// AfterOperation anchors the wait on the vcluster a mutation returned (e.g. the
// SuspendVClusterResponse's): states older than it, from before the caller's own operation,
// never end the wait. Without it a wait started right after a mutation could resolve on a
// stale read of the state the operation is about to leave.
func AfterOperation(vc *apiv1.VCluster) WaitOption { return func(c *waitConfig) { c.after = vc } }

// WaitTimeoutError reports a wait that ran out of time. It unwraps to the context error.
type WaitTimeoutError struct {
	// Target describes what was awaited.
	Target string
	// LastVCluster is the newest vcluster state seen (nil if none); LastSnapshot likewise for
	// snapshot waits.
	LastVCluster *apiv1.VCluster
	LastSnapshot *apiv1.Snapshot
	Err          error
}

func (e *WaitTimeoutError) Error() string {
	return fmt.Sprintf("timed out waiting for %s: %v", e.Target, e.Err)
}

func (e *WaitTimeoutError) Unwrap() error { return e.Err }

// WaitFailedError reports an object that reached a state from which the awaited one cannot
// follow: phase ERROR, deletion, a failed snapshot.
type WaitFailedError struct {
	Target string
	// Reason is machine-readable, e.g. the vcluster's status.reason ("ProviderFailed"),
	// "Deleted" or "Deleting".
	Reason       string
	Message      string
	LastVCluster *apiv1.VCluster
	LastSnapshot *apiv1.Snapshot
}

func (e *WaitFailedError) Error() string { return e.Target + ": " + e.Message }

type verdict int

const (
	pending verdict = iota
	done
	failed
)

type goal struct {
	description string
	// check judges a state; on failed, reason and message say why.
	check          func(*apiv1.VCluster) (v verdict, reason, message string)
	deletionIsGoal bool
}

func failedOnError(vc *apiv1.VCluster) (verdict, string, string) {
	if vc.GetStatus().GetPhase() != apiv1.Phase_PHASE_ERROR {
		return pending, "", ""
	}
	reason, message := vc.GetStatus().GetReason(), vc.GetStatus().GetMessage()
	if reason == "" {
		reason = "Error"
	}
	if message == "" {
		message = "the vcluster is in phase ERROR"
	}
	return failed, reason, message
}

// predicateGoal: done when the predicate holds; phase ERROR and deletion fail at once.
func predicateGoal(description string, predicate func(*apiv1.VCluster) bool) goal {
	return goal{description: description, check: func(vc *apiv1.VCluster) (verdict, string, string) {
		if predicate(vc) {
			return done, "", ""
		}
		if v, reason, message := failedOnError(vc); v == failed {
			return v, reason, message
		}
		if vc.GetStatus().GetPhase() == apiv1.Phase_PHASE_DELETING {
			return failed, "Deleting", "the vcluster is being deleted"
		}
		return pending, "", ""
	}}
}

// phaseGoal is done only on a settled state: a suspend under way, for instance, is RUNNING
// but not settled, and must not end a wait for RUNNING.
func phaseGoal(target apiv1.Phase) goal {
	return predicateGoal("phase "+target.String(), func(vc *apiv1.VCluster) bool {
		return vc.GetStatus().GetPhase() == target && IsSettled(vc)
	})
}

// IsSettled reports whether the server has finished acting on vc: its phase is settled
// (apiv1.IsPhaseSettled, from the contract) and status.observed_generation has caught up
// with the generation annotation (every spec change, suspend and resume raises it).
func IsSettled(vc *apiv1.VCluster) bool {
	if !apiv1.IsPhaseSettled(vc.GetStatus().GetPhase()) {
		return false
	}
	return vc.GetStatus().GetObservedGeneration() >= GenerationOf(vc)
}

// GenerationOf is the desired-state generation the server stamped on vc (0 when absent).
func GenerationOf(vc *apiv1.VCluster) int64 {
	g, err := strconv.ParseInt(vc.GetAnnotations()[apiv1.AnnotationGeneration], 10, 64)
	if err != nil || g < 0 {
		return 0
	}
	return g
}

// WaitUntilRunning returns the vcluster once it is RUNNING; it fails at once on phase ERROR,
// deletion or NotFound.
func (c *Client) WaitUntilRunning(ctx context.Context, ref Ref, opts ...WaitOption) (*apiv1.VCluster, error) {
	return c.waitFor(ctx, ref, phaseGoal(apiv1.Phase_PHASE_RUNNING), opts)
}

// WaitUntilSuspended returns the vcluster once it is SUSPENDED; it fails at once on phase
// ERROR, deletion or NotFound.
func (c *Client) WaitUntilSuspended(ctx context.Context, ref Ref, opts ...WaitOption) (*apiv1.VCluster, error) {
	return c.waitFor(ctx, ref, phaseGoal(apiv1.Phase_PHASE_SUSPENDED), opts)
}

// WaitUntilDeleted returns once the vcluster no longer exists (at once if it is already
// gone); it fails at once on phase ERROR (a failed deletion).
func (c *Client) WaitUntilDeleted(ctx context.Context, ref Ref, opts ...WaitOption) error {
	_, err := c.waitFor(ctx, ref, goal{description: "deletion", check: failedOnError, deletionIsGoal: true}, opts)
	return err
}

// WaitFor returns the vcluster once predicate holds for it. description names the awaited
// state in errors ("2 ready replicas"). Phase ERROR, deletion and NotFound fail at once.
func (c *Client) WaitFor(ctx context.Context, ref Ref, description string, predicate func(*apiv1.VCluster) bool, opts ...WaitOption) (*apiv1.VCluster, error) {
	return c.waitFor(ctx, ref, predicateGoal(description, predicate), opts)
}

// WaitForCondition returns the vcluster once its status condition conditionType has the
// given status ("True", "False", "Unknown").
func (c *Client) WaitForCondition(ctx context.Context, ref Ref, conditionType, status string, opts ...WaitOption) (*apiv1.VCluster, error) {
	return c.WaitFor(ctx, ref, fmt.Sprintf("condition %s=%s", conditionType, status), func(vc *apiv1.VCluster) bool {
		for _, cond := range vc.GetStatus().GetConditions() {
			if cond.GetType() == conditionType {
				return cond.GetStatus() == status
			}
		}
		return false
	}, opts...)
}

func newWaitScope(ctx context.Context, cfg waitConfig) (context.Context, context.CancelFunc) {
	if cfg.timeout > 0 {
		return context.WithTimeout(ctx, cfg.timeout)
	}
	if _, ok := ctx.Deadline(); !ok {
		return context.WithTimeout(ctx, DefaultWaitTimeout)
	}
	return context.WithCancel(ctx)
}

// waitFor reads the state once, then follows the watch from that state's version, so the
// wait ends as soon as the server reports the change, with no polling delay.
func (c *Client) waitFor(ctx context.Context, ref Ref, g goal, opts []WaitOption) (*apiv1.VCluster, error) {
	var cfg waitConfig
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := newWaitScope(ctx, cfg)
	defer cancel()
	namespace := ref.namespace()
	target := fmt.Sprintf("vcluster %s/%s to reach %s", namespace, ref.Name, g.description)
	var last *apiv1.VCluster
	anchor := ResourceVersionOf(cfg.after)
	ended := func(err error) error {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return &WaitTimeoutError{Target: target, LastVCluster: last, Err: context.DeadlineExceeded}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	// settle judges one state; states from before the caller's operation are pending.
	settle := func(vc *apiv1.VCluster) (*apiv1.VCluster, error) {
		last = vc
		if cfg.onProgress != nil {
			cfg.onProgress(vc)
		}
		if anchor != "" && CompareResourceVersions(ResourceVersionOf(vc), anchor) < 0 {
			return nil, nil
		}
		switch v, reason, message := g.check(vc); v {
		case done:
			return vc, nil
		case failed:
			return nil, &WaitFailedError{Target: target, Reason: reason, Message: message, LastVCluster: vc}
		}
		return nil, nil
	}
	for {
		res, err := c.VClusterService.GetVCluster(ctx, connect.NewRequest(&apiv1.GetVClusterRequest{Name: ref.Name, Namespace: namespace}))
		if err != nil {
			if IsNotFound(err) && g.deletionIsGoal {
				return nil, nil
			}
			return nil, ended(err)
		}
		current := res.Msg.GetVcluster()
		if reached, err := settle(current); reached != nil || err != nil {
			return reached, err
		}
		w := c.Watch(&apiv1.WatchVClusterRequest{Name: ref.Name, Namespace: namespace, ResourceVersion: ResourceVersionOf(current)}, WatchOptions{})
		for ev, err := range w.Events(ctx) {
			if err != nil {
				if IsResourceVersionExpired(err) {
					// The watch fell behind the server's history: read the state again.
					break
				}
				return nil, ended(err)
			}
			if ev.VCluster.GetId() != current.GetId() {
				continue
			}
			if ev.Type == apiv1.WatchEventType_WATCH_EVENT_TYPE_DELETED {
				last = ev.VCluster
				if g.deletionIsGoal {
					return ev.VCluster, nil
				}
				return nil, &WaitFailedError{Target: target, Reason: "Deleted", Message: "the vcluster was deleted", LastVCluster: ev.VCluster}
			}
			if reached, err := settle(ev.VCluster); reached != nil || err != nil {
				return reached, err
			}
		}
	}
}

// WaitUntilSnapshotReady returns the snapshot once it is READY; it fails at once when the
// snapshot is FAILED, being deleted, or gone. Snapshots have no watch of their own; their
// vcluster's watch drives the wait (the server records every snapshot change in the
// vcluster's status.last_snapshot), and each heartbeat re-reads the snapshot as a safety net.
func (c *Client) WaitUntilSnapshotReady(ctx context.Context, snapshotID string, opts ...WaitOption) (*apiv1.Snapshot, error) {
	var cfg waitConfig
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := newWaitScope(ctx, cfg)
	defer cancel()
	target := fmt.Sprintf("snapshot %s to become READY", snapshotID)
	var last *apiv1.Snapshot
	ended := func(err error) error {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return &WaitTimeoutError{Target: target, LastSnapshot: last, Err: context.DeadlineExceeded}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	check := func() (*apiv1.Snapshot, bool, error) {
		res, err := c.SnapshotService.GetSnapshot(ctx, connect.NewRequest(&apiv1.GetSnapshotRequest{Id: snapshotID}))
		if err != nil {
			return nil, false, ended(err)
		}
		last = res.Msg.GetSnapshot()
		switch last.GetStatus() {
		case apiv1.SnapshotStatus_SNAPSHOT_STATUS_READY:
			return last, true, nil
		case apiv1.SnapshotStatus_SNAPSHOT_STATUS_FAILED, apiv1.SnapshotStatus_SNAPSHOT_STATUS_DELETING:
			status := last.GetStatus().String()
			return nil, true, &WaitFailedError{Target: target, Reason: status, Message: "the snapshot is " + status, LastSnapshot: last}
		}
		return nil, false, nil
	}
	for {
		snap, final, err := check()
		if final || err != nil {
			return snap, err
		}
		var result *apiv1.Snapshot
		var resultErr error
		finished := false
		wctx, wcancel := context.WithCancel(ctx)
		recheck := func() {
			if finished {
				return
			}
			if snap, final, err := check(); final || err != nil {
				result, resultErr, finished = snap, err, true
				wcancel()
			}
		}
		w := c.Watch(&apiv1.WatchVClusterRequest{Name: last.GetVclusterName(), Namespace: last.GetNamespace()},
			WatchOptions{OnBookmark: func(string) { recheck() }})
		for ev, err := range w.Events(wctx) {
			if err != nil {
				if finished || IsResourceVersionExpired(err) {
					break
				}
				wcancel()
				return nil, ended(err)
			}
			if ev.VCluster.GetId() == last.GetVclusterId() {
				recheck()
			}
		}
		wcancel()
		if finished {
			return result, resultErr
		}
	}
}
