package vcluster_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	apiv1 "github.com/open-vcluster/open-vcluster/go/gen/vcluster/api/v1"
	"github.com/open-vcluster/open-vcluster/go/vcluster"
)

var protocols = []vcluster.Protocol{vcluster.ProtocolConnect, vcluster.ProtocolGRPC, vcluster.ProtocolGRPCWeb}

func newClient(t *testing.T, url string, p vcluster.Protocol, opts ...vcluster.Option) *vcluster.Client {
	t.Helper()
	c, err := vcluster.New(url, append([]vcluster.Option{vcluster.WithProtocol(p)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLifecycle(t *testing.T) {
	srv := startServer(t, serverConfig{})
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			ctx := testContext(t)
			c := newClient(t, srv.URL, p)
			ref := vcluster.Ref{Namespace: "team-" + p.String(), Name: "web"}
			vcs := c.VClusterService

			created, err := vcs.CreateVCluster(ctx, connect.NewRequest(&apiv1.CreateVClusterRequest{
				Name: ref.Name, Namespace: ref.Namespace, Labels: map[string]string{"app": "web"},
				Spec: &apiv1.VClusterSpec{KubernetesVersion: "1.34.2"},
			}))
			if err != nil {
				t.Fatal(err)
			}
			if created.Msg.GetOperationId() == "" {
				t.Error("CreateVCluster returned no operation id")
			}
			running, err := c.WaitUntilRunning(ctx, ref, vcluster.AfterOperation(created.Msg.GetVcluster()))
			if err != nil {
				t.Fatal(err)
			}
			if running.GetStatus().GetPhase() != apiv1.Phase_PHASE_RUNNING {
				t.Fatalf("phase %v", running.GetStatus().GetPhase())
			}
			if _, err := c.WaitForCondition(ctx, ref, "Ready", "True"); err != nil {
				t.Fatal(err)
			}

			_, err = vcs.CreateVCluster(ctx, connect.NewRequest(&apiv1.CreateVClusterRequest{Name: ref.Name, Namespace: ref.Namespace}))
			if !vcluster.IsAlreadyExists(err) || vcluster.ReasonOf(err) != apiv1.ReasonAlreadyExists {
				t.Errorf("second create: %v, want AlreadyExists with reason %s", err, apiv1.ReasonAlreadyExists)
			}
			_, err = vcs.CreateVCluster(ctx, connect.NewRequest(&apiv1.CreateVClusterRequest{Name: "Not A Name!", Namespace: ref.Namespace}))
			if d := vcluster.DetailOf(err); !vcluster.IsInvalidArgument(err) || d == nil || d.Reason != apiv1.ReasonInvalidField || d.Field != "name" {
				t.Errorf("invalid create: %v (detail %+v), want InvalidArgument on field name", err, d)
			}
			_, err = vcs.CreateVCluster(ctx, connect.NewRequest(&apiv1.CreateVClusterRequest{
				Name: "Not A Name!", Namespace: ref.Namespace, Spec: &apiv1.VClusterSpec{KubernetesVersion: "one"},
			}))
			if d := vcluster.DetailOf(err); d == nil || len(d.Violations) < 2 {
				t.Errorf("two invalid fields: detail %+v, want every violation", d)
			} else if d.Violations[0].Field != "name" || d.Violations[1].Field != "spec.kubernetes_version" {
				t.Errorf("violations %+v, want name and spec.kubernetes_version", d.Violations)
			}

			got, err := vcs.GetVCluster(ctx, connect.NewRequest(&apiv1.GetVClusterRequest{Name: ref.Name, Namespace: ref.Namespace}))
			if err != nil || got.Msg.GetVcluster().GetId() != running.GetId() {
				t.Fatalf("get: %v", err)
			}
			sel, err := vcluster.ParseSelector("app in (web,api)")
			if err != nil {
				t.Fatal(err)
			}
			var listed []string
			for vc, err := range c.VClusters(ctx, &apiv1.ListVClustersRequest{Namespace: ref.Namespace, LabelSelector: sel.String()}) {
				if err != nil {
					t.Fatal(err)
				}
				if !sel.Matches(vc.GetLabels()) {
					t.Errorf("listed %s, which the selector does not match", vc.GetName())
				}
				listed = append(listed, vc.GetName())
			}
			if !slices.Equal(listed, []string{"web"}) {
				t.Errorf("listed %v", listed)
			}

			scaled, err := vcs.ScaleVCluster(ctx, connect.NewRequest(&apiv1.ScaleVClusterRequest{
				Name: ref.Name, Namespace: ref.Namespace, Replicas: 1, Resources: &apiv1.ResourceRequirements{CpuRequest: "500m"},
			}))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.WaitFor(ctx, ref, "running with 500m CPU", func(vc *apiv1.VCluster) bool {
				return vc.GetStatus().GetPhase() == apiv1.Phase_PHASE_RUNNING && vc.GetSpec().GetResources().GetCpuRequest() == "500m"
			}, vcluster.AfterOperation(scaled.Msg.GetVcluster())); err != nil {
				t.Fatal(err)
			}

			snap, err := vcs.SnapshotVCluster(ctx, connect.NewRequest(&apiv1.SnapshotVClusterRequest{Name: ref.Name, Namespace: ref.Namespace}))
			if err != nil {
				t.Fatal(err)
			}
			ready, err := c.WaitUntilSnapshotReady(ctx, snap.Msg.GetSnapshot().GetId())
			if err != nil || ready.GetStatus() != apiv1.SnapshotStatus_SNAPSHOT_STATUS_READY {
				t.Fatalf("snapshot: %v", err)
			}
			if _, err := c.WaitUntilRunning(ctx, ref); err != nil {
				t.Fatal(err)
			}

			suspended, err := vcs.SuspendVCluster(ctx, connect.NewRequest(&apiv1.SuspendVClusterRequest{Name: ref.Name, Namespace: ref.Namespace}))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.WaitUntilSuspended(ctx, ref, vcluster.AfterOperation(suspended.Msg.GetVcluster())); err != nil {
				t.Fatal(err)
			}
			_, err = vcs.ScaleVCluster(ctx, connect.NewRequest(&apiv1.ScaleVClusterRequest{Name: ref.Name, Namespace: ref.Namespace, Replicas: 1, Resources: &apiv1.ResourceRequirements{CpuRequest: "1"}}))
			if !vcluster.IsFailedPrecondition(err) {
				t.Errorf("scale while suspended: %v, want FailedPrecondition", err)
			}
			resumed, err := vcs.ResumeVCluster(ctx, connect.NewRequest(&apiv1.ResumeVClusterRequest{Name: ref.Name, Namespace: ref.Namespace}))
			if err != nil {
				t.Fatal(err)
			}
			// Anchored on the resume: the RUNNING state from before the suspend never counts.
			if _, err := c.WaitUntilRunning(ctx, ref, vcluster.AfterOperation(resumed.Msg.GetVcluster())); err != nil {
				t.Fatal(err)
			}
			kc, err := vcs.GetVClusterKubeconfig(ctx, connect.NewRequest(&apiv1.GetVClusterKubeconfigRequest{Name: ref.Name, Namespace: ref.Namespace}))
			if err != nil || kc.Msg.GetKubeconfig() == "" {
				t.Fatalf("kubeconfig: %v", err)
			}

			var snapshots int
			for _, err := range c.Snapshots(ctx, &apiv1.ListSnapshotsRequest{VclusterName: ref.Name, Namespace: ref.Namespace}) {
				if err != nil {
					t.Fatal(err)
				}
				snapshots++
			}
			if snapshots != 1 {
				t.Errorf("%d snapshots, want 1", snapshots)
			}

			if _, err := vcs.DeleteVCluster(ctx, connect.NewRequest(&apiv1.DeleteVClusterRequest{Name: ref.Name, Namespace: ref.Namespace, DeleteSnapshots: true})); err != nil {
				t.Fatal(err)
			}
			if err := c.WaitUntilDeleted(ctx, ref); err != nil {
				t.Fatal(err)
			}
			_, err = vcs.GetVCluster(ctx, connect.NewRequest(&apiv1.GetVClusterRequest{Name: ref.Name, Namespace: ref.Namespace}))
			if !vcluster.IsNotFound(err) {
				t.Errorf("get after delete: %v, want NotFound", err)
			}
			if _, err := c.WaitUntilRunning(ctx, ref); !vcluster.IsNotFound(err) {
				t.Errorf("waiting on a deleted vcluster: %v, want NotFound at once", err)
			}
		})
	}
}

func TestWaiterTimeoutCarriesTheLastObject(t *testing.T) {
	srv := startServer(t, serverConfig{})
	ctx := testContext(t)
	c := newClient(t, srv.URL, vcluster.ProtocolConnect)
	ref := vcluster.Ref{Name: "patient"}
	res, err := c.VClusterService.CreateVCluster(ctx, connect.NewRequest(&apiv1.CreateVClusterRequest{Name: ref.Name}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitUntilRunning(ctx, ref, vcluster.AfterOperation(res.Msg.GetVcluster())); err != nil {
		t.Fatal(err)
	}
	var progress int
	_, err = c.WaitFor(ctx, ref, "a label nobody sets", func(vc *apiv1.VCluster) bool { return vc.GetLabels()["never"] == "set" },
		vcluster.WithWaitTimeout(3*time.Second), vcluster.OnProgress(func(*apiv1.VCluster) { progress++ }))
	var timeout *vcluster.WaitTimeoutError
	if !errors.As(err, &timeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want a WaitTimeoutError", err)
	}
	if timeout.LastVCluster.GetStatus().GetPhase() != apiv1.Phase_PHASE_RUNNING || progress == 0 {
		t.Errorf("last object %v after %d observations, want the RUNNING vcluster", timeout.LastVCluster, progress)
	}
	// Deleting fails a wait for another state at once.
	waiting := make(chan error, 1)
	go func() {
		_, err := c.WaitFor(ctx, ref, "a label nobody sets", func(vc *apiv1.VCluster) bool { return false })
		waiting <- err
	}()
	if _, err := c.VClusterService.DeleteVCluster(ctx, connect.NewRequest(&apiv1.DeleteVClusterRequest{Name: ref.Name})); err != nil {
		t.Fatal(err)
	}
	var failed *vcluster.WaitFailedError
	if err := <-waiting; !errors.As(err, &failed) || (failed.Reason != "Deleting" && failed.Reason != "Deleted") {
		t.Errorf("wait during deletion: %v, want a WaitFailedError", err)
	}
}

// Pages through 1,000 vclusters while others are created and deleted: every one of the
// 1,000 is seen exactly once, on every protocol.
func TestPagingUnderChurn(t *testing.T) {
	srv := startServer(t, serverConfig{timeScale: "0"})
	ctx := testContext(t)
	setup := newClient(t, srv.URL, vcluster.ProtocolConnect)
	const stable = 1000
	var wg sync.WaitGroup
	errs := make(chan error, stable)
	sem := make(chan struct{}, 16)
	for i := range stable {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_, err := setup.VClusterService.CreateVCluster(ctx, connect.NewRequest(&apiv1.CreateVClusterRequest{
				Name: fmt.Sprintf("stable-%04d", i), Namespace: "paging", Labels: map[string]string{"set": "stable"},
			}))
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	churnCtx, stopChurn := context.WithCancel(ctx)
	var churned atomic.Int64
	churnDone := make(chan struct{})
	go func() {
		defer close(churnDone)
		for i := 0; churnCtx.Err() == nil; i++ {
			name := fmt.Sprintf("churn-%04d", i)
			if _, err := setup.VClusterService.CreateVCluster(churnCtx, connect.NewRequest(&apiv1.CreateVClusterRequest{Name: name, Namespace: "paging"})); err != nil {
				continue
			}
			if i%2 == 0 {
				_, _ = setup.VClusterService.DeleteVCluster(churnCtx, connect.NewRequest(&apiv1.DeleteVClusterRequest{Name: name, Namespace: "paging", Force: true}))
			}
			churned.Add(1)
		}
	}()
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			c := newClient(t, srv.URL, p)
			seen := map[string]int{}
			pagesSeen := 0
			for page, err := range c.VClusterPages(ctx, &apiv1.ListVClustersRequest{Namespace: "paging", PageSize: 37}) {
				if err != nil {
					t.Fatal(err)
				}
				pagesSeen++
				for _, vc := range page.Items {
					seen[vc.GetName()]++
				}
			}
			for name, n := range seen {
				if n != 1 {
					t.Errorf("%s seen %d times", name, n)
				}
			}
			for i := range stable {
				if name := fmt.Sprintf("stable-%04d", i); seen[name] != 1 {
					t.Errorf("%s seen %d times, want once", name, seen[name])
				}
			}
			if pagesSeen < stable/37 {
				t.Errorf("only %d pages", pagesSeen)
			}
		})
	}
	stopChurn()
	<-churnDone
	if churned.Load() == 0 {
		t.Error("no vcluster was created or deleted while paging")
	}
}

// The first two responses of Create are lost after the server committed it; the client's
// retries with one request id still make exactly one vcluster. An Update, which carries no
// idempotency key, is not repeated after a lost response.
func TestCreateWithLostResponsesMakesOneVCluster(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			srv := startServer(t, serverConfig{faults: `[
				{"procedure":"CreateVCluster","code":"unavailable","count":2,"when":"after"},
				{"procedure":"UpdateVCluster","code":"unavailable","count":1,"when":"after"}]`})
			ctx := testContext(t)
			var retries []vcluster.RetryEvent
			c := newClient(t, srv.URL, p, vcluster.WithRetry(vcluster.RetryPolicy{OnRetry: func(e vcluster.RetryEvent) { retries = append(retries, e) }}))
			req := &apiv1.CreateVClusterRequest{Name: "once", Namespace: "faults"}
			res, err := c.VClusterService.CreateVCluster(ctx, connect.NewRequest(req))
			if err != nil {
				t.Fatal(err)
			}
			if len(retries) != 2 || !vcluster.IsUnavailable(retries[0].Err) {
				t.Errorf("%d retries (%v), want 2 after Unavailable", len(retries), retries)
			}
			if req.GetRequestId() != "" {
				t.Error("the SDK left its request id on the caller's request")
			}
			count := 0
			for vc, err := range c.VClusters(ctx, &apiv1.ListVClustersRequest{Namespace: "faults"}) {
				if err != nil {
					t.Fatal(err)
				}
				count++
				if vc.GetId() != res.Msg.GetVcluster().GetId() {
					t.Errorf("listed id %s, created %s", vc.GetId(), res.Msg.GetVcluster().GetId())
				}
			}
			if count != 1 {
				t.Errorf("%d vclusters, want exactly 1", count)
			}

			if _, err := c.WaitUntilRunning(ctx, vcluster.Ref{Namespace: "faults", Name: "once"}, vcluster.AfterOperation(res.Msg.GetVcluster())); err != nil {
				t.Fatal(err)
			}
			retries = nil
			update := &apiv1.UpdateVClusterRequest{Name: "once", Namespace: "faults", Labels: map[string]string{"tier": "gold"}}
			_, err = c.VClusterService.UpdateVCluster(ctx, connect.NewRequest(update))
			if !vcluster.IsUnavailable(err) || vcluster.Attempts(err) != 1 || len(retries) != 0 {
				t.Errorf("update with a lost response: %v after %d attempts, want Unavailable after 1", err, vcluster.Attempts(err))
			}
		})
	}
}

// An informer converges on the server's state through server restarts.
func TestInformerConvergesThroughRestarts(t *testing.T) {
	srv := startServer(t, serverConfig{timeScale: "0"})
	ctx := testContext(t)
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			ns := "informer-" + p.String()
			c := newClient(t, srv.URL, p, vcluster.WithWatchDefaults(vcluster.WatchOptions{BackoffInitial: 50 * time.Millisecond, BackoffMax: 500 * time.Millisecond}))
			informer := c.NewInformer(vcluster.InformerOptions{Namespace: ns, PageSize: 3, ListBackoffInitial: 50 * time.Millisecond, ListBackoffMax: 500 * time.Millisecond})
			changed := make(chan struct{}, 1)
			informer.AddHandler(vcluster.Handler{OnEvent: func(vcluster.CacheEvent) {
				select {
				case changed <- struct{}{}:
				default:
				}
			}})
			runCtx, stop := context.WithCancel(ctx)
			ran := make(chan error, 1)
			go func() { ran <- informer.Run(runCtx) }()
			defer func() {
				stop()
				if err := <-ran; !errors.Is(err, context.Canceled) {
					t.Errorf("Run ended with %v", err)
				}
			}()
			create := func(name string) {
				t.Helper()
				if _, err := c.VClusterService.CreateVCluster(ctx, connect.NewRequest(&apiv1.CreateVClusterRequest{Name: name, Namespace: ns})); err != nil {
					t.Fatal(err)
				}
			}
			remove := func(name string) {
				t.Helper()
				if _, err := c.VClusterService.DeleteVCluster(ctx, connect.NewRequest(&apiv1.DeleteVClusterRequest{Name: name, Namespace: ns, Force: true})); err != nil {
					t.Fatal(err)
				}
			}
			for i := range 5 {
				create(fmt.Sprintf("vc-%d", i))
			}
			if err := informer.WaitForSync(ctx); err != nil {
				t.Fatal(err)
			}
			converge := func(stage string) {
				t.Helper()
				deadline := time.After(2 * time.Minute)
				for {
					want := serverView(ctx, t, c, ns)
					got := informerView(informer)
					if slices.Equal(got, want) {
						return
					}
					select {
					case <-changed:
					case <-time.After(time.Second):
						// Deletions finish in the background: re-read the server now and then.
					case <-deadline:
						t.Fatalf("%s: informer %v, server %v", stage, got, want)
					}
				}
			}
			converge("after sync")
			for round := range 2 {
				srv.restart()
				create(fmt.Sprintf("after-restart-%d", round))
				remove(fmt.Sprintf("vc-%d", round))
				converge(fmt.Sprintf("after restart %d", round+1))
			}
			if !informer.HasSynced() {
				t.Error("HasSynced is false")
			}
		})
	}
}

func serverView(ctx context.Context, t *testing.T, c *vcluster.Client, ns string) []string {
	t.Helper()
	var out []string
	for vc, err := range c.VClusters(ctx, &apiv1.ListVClustersRequest{Namespace: ns}) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, vc.GetId()+"@"+vcluster.ResourceVersionOf(vc))
	}
	slices.Sort(out)
	return out
}

func informerView(i *vcluster.Informer) []string {
	var out []string
	for _, vc := range i.List() {
		out = append(out, vc.GetId()+"@"+vcluster.ResourceVersionOf(vc))
	}
	slices.Sort(out)
	return out
}
