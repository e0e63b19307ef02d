package vcluster_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	apiv1 "github.com/open-vcluster/open-vcluster/go/gen/vcluster/api/v1"
	"github.com/open-vcluster/open-vcluster/go/vcluster"
)

const (
	issuerClient   = "ci"
	issuerSecret   = "machine-client-secret-0123456789"
	issuerResource = "urn:open-vcluster:api"
)

var issuerListening = regexp.MustCompile(`issuer listening on (http://127\.0\.0\.1:\d+)`)

// startIssuer runs a real OpenID provider (oidc-provider, packages/server/test/
// oidc-issuer-process.mjs) whose client-credentials access tokens live ttl seconds and make
// their holder an admin. It exits when the test closes its stdin.
func startIssuer(t *testing.T, ttl int) string {
	t.Helper()
	script := filepath.Join(repoRoot(t), "packages", "server", "test", "oidc-issuer-process.mjs")
	cmd := exec.Command(nodeBinary(t), script, "--ttl", fmt.Sprint(ttl), "--client", issuerClient, "--secret", issuerSecret,
		"--resource", issuerResource, "--groups", "platform-admins")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := issuerListening.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		close(found)
	}()
	select {
	case url, ok := <-found:
		if !ok {
			t.Fatal("the issuer exited before listening")
		}
		return url
	case <-time.After(180 * time.Second):
		t.Fatal("the issuer did not start within 180 s")
	}
	return ""
}

// oidcServer starts the reference server accepting the issuer's tokens, with no clock skew:
// a watch ends exactly when its token expires.
func oidcServer(t *testing.T, issuer string) *referenceServer {
	config := filepath.Join(t.TempDir(), "auth.yaml")
	text := fmt.Sprintf("authenticators:\n  - oidc:\n      issuer: %s\n      audiences: [vcluster-api]\n      clockSkewSeconds: 0\n      claims:\n        adminGroups: [platform-admins]\n", issuer)
	if err := os.WriteFile(config, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return startServer(t, serverConfig{args: []string{"--auth-config", config}})
}

// countingTransport counts the token requests that reach the issuer.
type countingTransport struct{ tokenRequests atomic.Int32 }

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/token") {
		c.tokenRequests.Add(1)
	}
	return http.DefaultTransport.RoundTrip(req)
}

func clientCredentials(t *testing.T, issuer string, counter *countingTransport, opts ...vcluster.TokenCacheOption) *vcluster.TokenCache {
	tokens, err := vcluster.NewClientCredentialsToken(vcluster.ClientCredentials{
		Issuer: issuer, ClientID: issuerClient, ClientSecret: issuerSecret,
		Scopes: []string{"vclusters"}, Resource: issuerResource,
		HTTPClient: &http.Client{Transport: counter},
	}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tokens
}

func TestClientCredentialsTokenIsFetchedOnceForManyCalls(t *testing.T) {
	ctx := testContext(t)
	issuer := startIssuer(t, 3600)
	srv := oidcServer(t, issuer)
	counter := &countingTransport{}
	client, err := vcluster.New(srv.URL, vcluster.WithTokenCache(clientCredentials(t, issuer, counter)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if _, err := client.VClusterService.ListVClusters(ctx, connect.NewRequest(&apiv1.ListVClustersRequest{})); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if n := counter.tokenRequests.Load(); n != 1 {
		t.Fatalf("%d token requests for 20 calls, want 1", n)
	}
	unauthenticated, err := vcluster.New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unauthenticated.VClusterService.ListVClusters(ctx, connect.NewRequest(&apiv1.ListVClustersRequest{})); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Fatalf("without a token: %v, want unauthenticated", err)
	}
}

func TestRefusedTokenIsReplacedAndTheCallSentOnce(t *testing.T) {
	ctx := testContext(t)
	issuer := startIssuer(t, 3600)
	srv := oidcServer(t, issuer)
	real := clientCredentials(t, issuer, &countingTransport{})
	var fetches atomic.Int32
	// The first token looks valid for an hour but the server does not accept it, as after a
	// revocation or a key rotation at the issuer.
	client, err := vcluster.New(srv.URL, vcluster.WithoutRetry(), vcluster.WithTokenFunc(func(ctx context.Context) (string, time.Time, error) {
		if fetches.Add(1) == 1 {
			return "revoked-token", time.Now().Add(time.Hour), nil
		}
		token, err := real.Token(ctx)
		return token, time.Time{}, err
	}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.VClusterService.CreateVCluster(ctx, connect.NewRequest(&apiv1.CreateVClusterRequest{Name: "after-refusal"})); err != nil {
		t.Fatalf("create with a refused cached token: %v", err)
	}
	for range 5 {
		if _, err := client.VClusterService.GetVCluster(ctx, connect.NewRequest(&apiv1.GetVClusterRequest{Name: "after-refusal"})); err != nil {
			t.Fatal(err)
		}
	}
	if n := fetches.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2 (the refused token, then one fresh token for every later call)", n)
	}
	res, err := client.VClusterService.ListVClusters(ctx, connect.NewRequest(&apiv1.ListVClustersRequest{}))
	if err != nil || len(res.Msg.GetVclusters()) != 1 {
		t.Fatalf("list: %v, %d vclusters (the refused attempt must have created nothing)", err, len(res.Msg.GetVclusters()))
	}
}

// A watch whose token expires is ended by the server (UNAUTHENTICATED) and must come back
// with a fresh token at once, missing nothing that changed in between.
func TestWatchOutlivesThreeTokenRotations(t *testing.T) {
	const ttl = 12
	for _, protocol := range []vcluster.Protocol{vcluster.ProtocolConnect, vcluster.ProtocolGRPC} {
		t.Run(protocol.String(), func(t *testing.T) {
			t.Parallel()
			ctx := testContext(t)
			issuer := startIssuer(t, ttl)
			srv := oidcServer(t, issuer)
			counter := &countingTransport{}
			// Refreshing 8 s before expiry leaves every reconnected stream 8 s to deliver its
			// first message (heartbeats come every second) before its token expires, even on a
			// heavily loaded machine.
			tokens := clientCredentials(t, issuer, counter, vcluster.WithRefreshBefore(8*time.Second))
			client, err := vcluster.New(srv.URL, vcluster.WithProtocol(protocol), vcluster.WithTokenCache(tokens))
			if err != nil {
				t.Fatal(err)
			}
			refusals := make(chan struct{}, 64)
			w := client.Watch(&apiv1.WatchVClusterRequest{}, vcluster.WatchOptions{OnStatus: func(s vcluster.ConnectionStatus, err error) {
				if s == vcluster.StatusReconnecting && connect.CodeOf(err) == connect.CodeUnauthenticated {
					refusals <- struct{}{}
				}
			}})
			events := make(chan vcluster.WatchEvent, 64)
			ended := make(chan error, 1)
			go func() {
				for ev, err := range w.Events(ctx) {
					if err != nil {
						ended <- err
						return
					}
					events <- ev
				}
			}()
			var seen []vcluster.WatchEvent
			awaitAdded := func(name string) {
				t.Helper()
				for {
					select {
					case ev := <-events:
						seen = append(seen, ev)
						if ev.Type == apiv1.WatchEventType_WATCH_EVENT_TYPE_ADDED && ev.VCluster.GetName() == name {
							return
						}
					case err := <-ended:
						t.Fatalf("the watch ended: %v", err)
					case <-ctx.Done():
						t.Fatalf("%s never arrived", name)
					}
				}
			}
			create := func(name string) {
				t.Helper()
				if _, err := client.VClusterService.CreateVCluster(ctx, connect.NewRequest(&apiv1.CreateVClusterRequest{Name: name})); err != nil {
					t.Fatalf("create %s: %v", name, err)
				}
			}
			var names []string
			for rotation := 1; rotation <= 3; rotation++ {
				before, during := fmt.Sprintf("before-%d", rotation), fmt.Sprintf("during-%d", rotation)
				create(before)
				awaitAdded(before)
				select {
				case <-refusals: // the stream's token expired and the server ended it
				case err := <-ended:
					t.Fatalf("the watch ended: %v", err)
				case <-ctx.Done():
					t.Fatal("the server never ended the stream of an expired token")
				}
				// Made while the watch reconnects: it must still arrive, once.
				create(during)
				awaitAdded(during)
				names = append(names, before, during)
			}
			var added []string
			var versions []string
			for _, ev := range seen {
				if ev.Type == apiv1.WatchEventType_WATCH_EVENT_TYPE_ADDED {
					added = append(added, ev.VCluster.GetName())
				}
				versions = append(versions, ev.ResourceVersion)
			}
			if !slices.Equal(added, names) {
				t.Fatalf("ADDED %v, want %v", added, names)
			}
			for i := 1; i < len(versions); i++ {
				if vcluster.CompareResourceVersions(versions[i-1], versions[i]) >= 0 {
					t.Fatalf("versions not strictly increasing: %v", versions)
				}
			}
			if n := counter.tokenRequests.Load(); n < 4 {
				t.Fatalf("%d token requests, want at least 4 (one per rotation)", n)
			}
		})
	}
}
