// Package vcluster is the Go SDK of the open-vcluster API: a VM-like lifecycle API over
// virtual Kubernetes clusters.
//
// A [Client] wraps the generated Connect clients (package apiv1connect) with the SDK's retry
// policy and bearer authentication, and speaks Connect, gRPC or gRPC-Web:
//
//	client, err := vcluster.New("http://127.0.0.1:8080", vcluster.WithProtocol(vcluster.ProtocolGRPC))
//	res, err := client.VClusterService.CreateVCluster(ctx, connect.NewRequest(&apiv1.CreateVClusterRequest{Name: "web"}))
//	vc, err := client.WaitUntilRunning(ctx, vcluster.Ref{Name: "web"}, vcluster.AfterOperation(res.Msg.GetVcluster()))
//
// On top of the RPCs it offers what every caller of a long-running, list-and-watch API needs,
// with the same behaviour as the TypeScript and Python SDKs (the repository's
// contract/vectors hold that behaviour once, and every SDK's tests run them):
//
//   - Retries: read-only RPCs and CreateVCluster (the client fills request_id once per call
//     and reuses it on every attempt; it never replaces the caller's) are repeated on
//     Unavailable, ResourceExhausted, Aborted and DeadlineExceeded; other mutations only when
//     the failure proves the server never processed them. Full-jitter backoff, the context's
//     deadline as the total budget, a client-wide retry budget, the server's retry-delay hint
//     honoured; a call that failed after several attempts returns a [RetriedError].
//   - Pagination as iter.Seq2: [Client.VClusters] and [Client.VClusterPages] (and the snapshot
//     forms); a page token handed out twice ends the iteration with a [RepeatedPageTokenError].
//   - [Watch]: resumes from the last version after a disconnect, treats missing heartbeats as a
//     dead stream, backs off with jitter, and ends only with an error.
//   - [Informer]: a list-watch cache with handlers and HasSynced that re-lists when its
//     version expired and hands its handlers exactly the changes they missed.
//   - Waiters driven by the watch: [Client.WaitUntilRunning], [Client.WaitUntilSuspended],
//     [Client.WaitUntilDeleted], [Client.WaitUntilSnapshotReady], [Client.WaitFor] and
//     [Client.WaitForCondition]. Phase ERROR and NotFound fail at once with a
//     [WaitFailedError] or the NotFound error; running out of time returns a
//     [WaitTimeoutError] carrying the last object seen.
//   - Typed errors: [DetailOf] decodes the server's ErrorDetail (reason, field, every
//     violation); [IsNotFound], [IsResourceVersionExpired], [HasReason] and friends.
//   - Kubernetes label selectors: [ParseSelector].
package vcluster
