package vcluster

import (
	"context"
	"fmt"
	"iter"

	"connectrpc.com/connect"
	apiv1 "github.com/open-vcluster/open-vcluster/go/gen/vcluster/api/v1"
	"google.golang.org/protobuf/proto"
)

// Page is one page of a List call.
type Page[T any] struct {
	Items []T
	// NextPageToken fetches the following page; "" on the last page. Store it to resume later.
	NextPageToken string
	// TotalCount is how many items match the query over all pages, as reported with this page.
	TotalCount int32
	// ResourceVersion is the version the server read this page at, when it says (ListVClusters does).
	ResourceVersion string
}

// RepeatedPageTokenError reports a server that handed out a page token twice: following it
// would loop forever, so the iteration stops with this error instead.
type RepeatedPageTokenError struct {
	PageToken string
}

func (e *RepeatedPageTokenError) Error() string {
	return fmt.Sprintf("vcluster: the server returned page token %q twice; stopping instead of looping", e.PageToken)
}

type pageFetcher[T any] func(ctx context.Context, pageToken string) (*Page[T], error)

// pages lazily walks every page from startToken. An empty page with a token is legal (its
// items may all have been filtered out) and is followed.
func pages[T any](ctx context.Context, startToken string, fetch pageFetcher[T]) iter.Seq2[*Page[T], error] {
	return func(yield func(*Page[T], error) bool) {
		token := startToken
		seen := map[string]bool{token: true}
		for {
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			page, err := fetch(ctx, token)
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(page, nil) || page.NextPageToken == "" {
				return
			}
			if seen[page.NextPageToken] {
				yield(nil, &RepeatedPageTokenError{PageToken: page.NextPageToken})
				return
			}
			seen[page.NextPageToken] = true
			token = page.NextPageToken
		}
	}
}

// items flattens pages; an error ends the sequence after the items before it.
func items[T any](seq iter.Seq2[*Page[T], error]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for page, err := range seq {
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, item := range page.Items {
				if !yield(item, nil) {
					return
				}
			}
		}
	}
}

// VClusterPages iterates over every page of ListVClusters for req, starting at
// req.PageToken (a checkpoint from an earlier page, or "" for the first). Each page goes
// through the client's retry policy; req is not modified.
func (c *Client) VClusterPages(ctx context.Context, req *apiv1.ListVClustersRequest) iter.Seq2[*Page[*apiv1.VCluster], error] {
	base := cloneOrNew(req)
	return pages(ctx, base.GetPageToken(), func(ctx context.Context, token string) (*Page[*apiv1.VCluster], error) {
		r := proto.CloneOf(base)
		r.PageToken = token
		res, err := c.VClusterService.ListVClusters(ctx, connect.NewRequest(r))
		if err != nil {
			return nil, err
		}
		return &Page[*apiv1.VCluster]{
			Items:           res.Msg.GetVclusters(),
			NextPageToken:   res.Msg.GetNextPageToken(),
			TotalCount:      res.Msg.GetTotalCount(),
			ResourceVersion: res.Header().Get(apiv1.ResponseHeaderResourceVersion),
		}, nil
	})
}

// VClusters iterates over every vcluster that matches req, fetching pages as needed:
//
//	for vc, err := range client.VClusters(ctx, &apiv1.ListVClustersRequest{Namespace: "team-a"}) {
//		if err != nil { return err }
//		fmt.Println(vc.GetName())
//	}
func (c *Client) VClusters(ctx context.Context, req *apiv1.ListVClustersRequest) iter.Seq2[*apiv1.VCluster, error] {
	return items(c.VClusterPages(ctx, req))
}

// SnapshotPages iterates over every page of ListSnapshots for req, starting at req.PageToken.
func (c *Client) SnapshotPages(ctx context.Context, req *apiv1.ListSnapshotsRequest) iter.Seq2[*Page[*apiv1.Snapshot], error] {
	base := cloneOrNew(req)
	return pages(ctx, base.GetPageToken(), func(ctx context.Context, token string) (*Page[*apiv1.Snapshot], error) {
		r := proto.CloneOf(base)
		r.PageToken = token
		res, err := c.SnapshotService.ListSnapshots(ctx, connect.NewRequest(r))
		if err != nil {
			return nil, err
		}
		return &Page[*apiv1.Snapshot]{
			Items:         res.Msg.GetSnapshots(),
			NextPageToken: res.Msg.GetNextPageToken(),
			TotalCount:    res.Msg.GetTotalCount(),
		}, nil
	})
}

// Snapshots iterates over every snapshot that matches req.
func (c *Client) Snapshots(ctx context.Context, req *apiv1.ListSnapshotsRequest) iter.Seq2[*apiv1.Snapshot, error] {
	return items(c.SnapshotPages(ctx, req))
}

func cloneOrNew[M any, P interface {
	*M
	proto.Message
}](m P) P {
	if m == nil {
		return P(new(M))
	}
	return proto.CloneOf(m)
}
