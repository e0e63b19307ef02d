// Command example walks one vcluster through its whole lifecycle with the Go SDK, printing
// each step.
//
// Usage: go run . [server-url]   (or VCLUSTER_API_URL; default http://127.0.0.1:8080)
package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"connectrpc.com/connect"
	apiv1 "github.com/open-vcluster/open-vcluster/go/gen/vcluster/api/v1"
	"github.com/open-vcluster/open-vcluster/go/vcluster"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "failed: %v\n", err)
		if d := vcluster.DetailOf(err); d != nil {
			fmt.Fprintf(os.Stderr, "  reason %s", d.Reason)
			if d.Field != "" {
				fmt.Fprintf(os.Stderr, " (field %s)", d.Field)
			}
			fmt.Fprintln(os.Stderr)
		}
		os.Exit(1)
	}
}

func run() error {
	baseURL := os.Getenv("VCLUSTER_API_URL")
	if len(os.Args) > 1 {
		baseURL = os.Args[1]
	}
	if baseURL == "" {
		baseURL = "http://127.0.0.1:8080"
	}
	opts := []vcluster.Option{vcluster.WithRetry(vcluster.RetryPolicy{
		OnRetry: func(e vcluster.RetryEvent) { fmt.Printf("  retrying %s\n", e.Procedure) },
	})}
	if token := os.Getenv("VCLUSTER_API_TOKEN"); token != "" {
		opts = append(opts, vcluster.WithToken(token))
	}
	client, err := vcluster.New(baseURL, opts...)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()

	name := os.Getenv("VCLUSTER_NAME")
	if name == "" {
		name = "example"
	}
	ref := vcluster.Ref{Namespace: "default", Name: name}
	progress := vcluster.OnProgress(func(vc *apiv1.VCluster) {
		fmt.Printf("  phase %s\n", strings.TrimPrefix(vc.GetStatus().GetPhase().String(), "PHASE_"))
	})
	vcs := client.VClusterService

	fmt.Printf("creating %s/%s on %s\n", ref.Namespace, ref.Name, baseURL)
	created, err := vcs.CreateVCluster(ctx, connect.NewRequest(&apiv1.CreateVClusterRequest{
		Namespace: ref.Namespace, Name: ref.Name, Labels: map[string]string{"example": "go"},
	}))
	var anchor []vcluster.WaitOption
	switch {
	case vcluster.IsAlreadyExists(err):
		fmt.Println("  already exists, reusing it")
	case err != nil:
		return err
	default:
		anchor = append(anchor, vcluster.AfterOperation(created.Msg.GetVcluster()))
	}
	if _, err := client.WaitUntilRunning(ctx, ref, append(anchor, progress)...); err != nil {
		return err
	}
	fmt.Println("running")

	for vc, err := range client.VClusters(ctx, &apiv1.ListVClustersRequest{LabelSelector: "example=go"}) {
		if err != nil {
			return err
		}
		fmt.Printf("  listed %s/%s (%s)\n", vc.GetNamespace(), vc.GetName(), vc.GetStatus().GetApiServerEndpoint())
	}

	suspended, err := vcs.SuspendVCluster(ctx, connect.NewRequest(&apiv1.SuspendVClusterRequest{Namespace: ref.Namespace, Name: ref.Name}))
	if err != nil {
		return err
	}
	if _, err := client.WaitUntilSuspended(ctx, ref, progress, vcluster.AfterOperation(suspended.Msg.GetVcluster())); err != nil {
		return err
	}
	fmt.Println("suspended")
	resumed, err := vcs.ResumeVCluster(ctx, connect.NewRequest(&apiv1.ResumeVClusterRequest{Namespace: ref.Namespace, Name: ref.Name}))
	if err != nil {
		return err
	}
	if _, err := client.WaitUntilRunning(ctx, ref, progress, vcluster.AfterOperation(resumed.Msg.GetVcluster())); err != nil {
		return err
	}
	fmt.Println("resumed")

	snap, err := vcs.SnapshotVCluster(ctx, connect.NewRequest(&apiv1.SnapshotVClusterRequest{
		Namespace: ref.Namespace, Name: ref.Name, Description: "example snapshot",
	}))
	if err != nil {
		return err
	}
	ready, err := client.WaitUntilSnapshotReady(ctx, snap.Msg.GetSnapshot().GetId())
	if err != nil {
		return err
	}
	fmt.Printf("snapshot %s ready (%d bytes at %s)\n", ready.GetName(), ready.GetSizeBytes(), ready.GetStorageUri())
	restored, err := vcs.RestoreVCluster(ctx, connect.NewRequest(&apiv1.RestoreVClusterRequest{
		Namespace: ref.Namespace, Name: ref.Name, SnapshotId: ready.GetId(),
	}))
	if err != nil {
		return err
	}
	if _, err := client.WaitUntilRunning(ctx, ref, progress, vcluster.AfterOperation(restored.Msg.GetVcluster())); err != nil {
		return err
	}
	fmt.Println("restored")

	kc, err := vcs.GetVClusterKubeconfig(ctx, connect.NewRequest(&apiv1.GetVClusterKubeconfigRequest{
		Namespace: ref.Namespace, Name: ref.Name, Format: "token", ValidityHours: 1,
	}))
	if err != nil {
		return err
	}
	yaml, err := base64.StdEncoding.DecodeString(kc.Msg.GetKubeconfig())
	if err != nil {
		return err
	}
	fmt.Printf("kubeconfig for %s:\n", kc.Msg.GetApiServerEndpoint())
	for _, line := range strings.Split(strings.TrimRight(string(yaml), "\n"), "\n") {
		fmt.Printf("    %s\n", line)
	}

	if _, err := vcs.DeleteVCluster(ctx, connect.NewRequest(&apiv1.DeleteVClusterRequest{
		Namespace: ref.Namespace, Name: ref.Name, DeleteSnapshots: true,
	})); err != nil {
		return err
	}
	if err := client.WaitUntilDeleted(ctx, ref); err != nil {
		return err
	}
	fmt.Println("deleted")
	return nil
}
