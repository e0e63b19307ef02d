package vcluster

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	apiv1 "github.com/open-vcluster/open-vcluster/go/gen/vcluster/api/v1"
	"github.com/open-vcluster/open-vcluster/go/gen/vcluster/api/v1/apiv1connect"
	"golang.org/x/oauth2"
)

type tokenVectors struct {
	Cache []struct {
		Name            string
		RefreshBeforeMs *int
		Issued          []struct {
			Token       *string
			ExpiresAtMs *int64
			Error       string
		}
		Steps []struct {
			Op      string
			AtMs    int64
			Token   string
			Refused string
			Error   bool
			Fetches int
		}
	}
	Unary []struct {
		Name    string
		Source  string
		Issued  []string
		Answers []string
		Calls   int
		Expect  struct {
			Outcome string
			Sent    []string
			Fetches int
		}
	}
	Watch []struct {
		Name    string
		Issued  []string
		Streams []string
		Expect  struct {
			Sent    []string
			Fetches int
			Error   *string
		}
	}
}

func TestVectorsTokenCache(t *testing.T) {
	var v tokenVectors
	loadVectors(t, "token-cache.json", &v)
	for _, c := range v.Cache {
		t.Run(c.Name, func(t *testing.T) {
			var now time.Time
			fetches := 0
			opts := []TokenCacheOption{WithTokenClock(func() time.Time { return now })}
			if c.RefreshBeforeMs != nil {
				opts = append(opts, WithRefreshBefore(ms(*c.RefreshBeforeMs)))
			}
			cache := NewTokenCache(func(context.Context) (string, time.Time, error) {
				issued := c.Issued[fetches]
				fetches++
				if issued.Error != "" {
					return "", time.Time{}, errors.New(issued.Error)
				}
				var expiry time.Time
				if issued.ExpiresAtMs != nil {
					expiry = time.UnixMilli(*issued.ExpiresAtMs)
				}
				return *issued.Token, expiry, nil
			}, opts...)
			for i, step := range c.Steps {
				switch step.Op {
				case "invalidate":
					cache.Invalidate(step.Refused)
					continue
				case "get":
					now = time.UnixMilli(step.AtMs)
					token, err := cache.Token(t.Context())
					if step.Error != (err != nil) || (!step.Error && token != step.Token) {
						t.Fatalf("step %d: got %q, %v; want %q (error %v)", i, token, err, step.Token, step.Error)
					}
				default:
					t.Fatalf("unknown op %q", step.Op)
				}
				if fetches != step.Fetches {
					t.Fatalf("step %d: %d fetches, want %d", i, fetches, step.Fetches)
				}
			}
		})
	}
}

// authRecorder is a VClusterService that records the bearer token of every call and
// answers with a script of codes ("ok" or a code name).
type authRecorder struct {
	apiv1connect.UnimplementedVClusterServiceHandler
	t       *testing.T
	mu      sync.Mutex
	sent    []string
	answers []string
	streams []string
	changed chan struct{}
}

func (r *authRecorder) next(header http.Header, script *[]string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, header.Get("Authorization")[len("Bearer "):])
	if len(*script) == 0 {
		r.t.Errorf("call %d after the script's end", len(r.sent))
		return "unavailable"
	}
	answer := (*script)[0]
	*script = (*script)[1:]
	select {
	case r.changed <- struct{}{}:
	default:
	}
	return answer
}

func (r *authRecorder) sentTokens() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.sent)
}

func (r *authRecorder) GetVCluster(_ context.Context, req *connect.Request[apiv1.GetVClusterRequest]) (*connect.Response[apiv1.GetVClusterResponse], error) {
	if answer := r.next(req.Header(), &r.answers); answer != "ok" {
		return nil, connect.NewError(codeNamed(r.t, answer), errors.New("scripted"))
	}
	return connect.NewResponse(&apiv1.GetVClusterResponse{Vcluster: &apiv1.VCluster{Name: req.Msg.GetName()}}), nil
}

func (r *authRecorder) WatchVCluster(ctx context.Context, req *connect.Request[apiv1.WatchVClusterRequest], stream *connect.ServerStream[apiv1.WatchVClusterResponse]) error {
	heartbeat := &apiv1.WatchVClusterResponse{Vcluster: &apiv1.VCluster{Annotations: map[string]string{apiv1.AnnotationResourceVersion: "7"}}}
	switch answer := r.next(req.Header(), &r.streams); answer {
	case "open":
		if err := stream.Send(heartbeat); err != nil {
			return err
		}
		<-ctx.Done()
		return ctx.Err()
	case "events_then_unauthenticated":
		if err := stream.Send(heartbeat); err != nil {
			return err
		}
		return connect.NewError(connect.CodeUnauthenticated, errors.New("credentials expired"))
	default:
		return connect.NewError(codeNamed(r.t, answer), errors.New("scripted"))
	}
}

func recordingServer(t *testing.T, r *authRecorder) string {
	mux := http.NewServeMux()
	mux.Handle(apiv1connect.NewVClusterServiceHandler(r))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestVectorsTokenRefusal(t *testing.T) {
	var v tokenVectors
	loadVectors(t, "token-cache.json", &v)
	for _, c := range v.Unary {
		t.Run(c.Name, func(t *testing.T) {
			r := &authRecorder{t: t, answers: slices.Clone(c.Answers), changed: make(chan struct{}, 1)}
			fetches := 0
			fetch := func(context.Context) (string, time.Time, error) {
				fetches++
				return c.Issued[fetches-1], time.Time{}, nil
			}
			auth := WithTokenFunc(fetch)
			if c.Source == "function" {
				auth = WithTokenSource(func(ctx context.Context) (string, error) { token, _, err := fetch(ctx); return token, err })
			}
			client, err := New(recordingServer(t, r), WithoutRetry(), auth)
			if err != nil {
				t.Fatal(err)
			}
			var callErr error
			for range max(c.Calls, 1) {
				_, callErr = client.VClusterService.GetVCluster(t.Context(), connect.NewRequest(&apiv1.GetVClusterRequest{Name: "a"}))
			}
			outcome := "ok"
			if callErr != nil {
				outcome = errorName(callErr)
			}
			if outcome != c.Expect.Outcome || !slices.Equal(r.sentTokens(), c.Expect.Sent) || fetches != c.Expect.Fetches {
				t.Fatalf("outcome %s, sent %v, %d fetches; want %s, %v, %d", outcome, r.sentTokens(), fetches, c.Expect.Outcome, c.Expect.Sent, c.Expect.Fetches)
			}
		})
	}
	for _, c := range v.Watch {
		t.Run(c.Name, func(t *testing.T) {
			r := &authRecorder{t: t, streams: slices.Clone(c.Streams), changed: make(chan struct{}, 1)}
			var fetches atomic.Int32
			cache := NewTokenCache(func(context.Context) (string, time.Time, error) {
				return c.Issued[fetches.Add(1)-1], time.Time{}, nil
			})
			// The vector's reconnects after a refusal are immediate; any other would wait a
			// backoff, which a zero jitter draw makes immediate too, so only the order counts.
			client, err := New(recordingServer(t, r), WithoutRetry(), WithTokenCache(cache), withRandom(func() float64 { return 0 }))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			ended := make(chan error, 1)
			go func() {
				for _, err := range client.Watch(&apiv1.WatchVClusterRequest{}, WatchOptions{}).Events(ctx) {
					if err != nil {
						ended <- err
						return
					}
				}
			}()
			var got error
			if c.Expect.Error != nil {
				select {
				case got = <-ended:
				case <-time.After(20 * time.Second):
					t.Fatal("the watch did not end")
				}
				if errorName(got) != *c.Expect.Error {
					t.Fatalf("ended with %v, want %s", got, *c.Expect.Error)
				}
			} else {
				until(t, r.changed, func() bool { return len(r.sentTokens()) == len(c.Streams) })
			}
			if !slices.Equal(r.sentTokens(), c.Expect.Sent) || int(fetches.Load()) != c.Expect.Fetches {
				t.Fatalf("sent %v, %d fetches; want %v, %d", r.sentTokens(), fetches.Load(), c.Expect.Sent, c.Expect.Fetches)
			}
		})
	}
}

func TestTokenCacheSharesOneFetch(t *testing.T) {
	release := make(chan struct{})
	var fetches atomic.Int32
	cache := NewTokenCache(func(context.Context) (string, time.Time, error) {
		fetches.Add(1)
		<-release
		return "shared", time.Now().Add(time.Hour), nil
	})
	const callers = 16
	var started, done sync.WaitGroup
	started.Add(callers)
	done.Add(callers)
	tokens := make([]string, callers)
	for i := range callers {
		go func() {
			defer done.Done()
			started.Done()
			tokens[i], _ = cache.Token(t.Context())
		}()
	}
	started.Wait()
	close(release)
	done.Wait()
	if fetches.Load() != 1 || slices.ContainsFunc(tokens, func(s string) bool { return s != "shared" }) {
		t.Fatalf("%d fetches, tokens %v", fetches.Load(), tokens)
	}
}

func TestTokenCacheCallerMayGiveUpOnAFetch(t *testing.T) {
	release := make(chan struct{})
	cache := NewTokenCache(func(context.Context) (string, time.Time, error) {
		<-release
		return "late", time.Time{}, nil
	})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := cache.Token(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	close(release)
	if token, err := cache.Token(t.Context()); token != "late" || err != nil {
		t.Fatalf("got %q, %v", token, err)
	}
}

func TestServiceAccountTokenFollowsTheFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "token")
	// The kubelet writes a new file and swaps a symlink onto it.
	write := func(name, token string) {
		target := filepath.Join(dir, name)
		if err := os.WriteFile(target, []byte(token+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		tmp := path + ".tmp"
		if err := os.Symlink(target, tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	write("1", "first-token")
	cache := NewServiceAccountToken(path)
	for range 3 {
		if token, err := cache.Token(t.Context()); token != "first-token" || err != nil {
			t.Fatalf("got %q, %v", token, err)
		}
	}
	write("2", "second-token")
	if token, err := cache.Token(t.Context()); token != "second-token" || err != nil {
		t.Fatalf("after rotation got %q, %v", token, err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := cache.Token(t.Context()); err == nil {
		t.Fatal("a missing token file must be an error")
	}
}

type countingOAuth2 struct{ n atomic.Int32 }

func (c *countingOAuth2) Token() (*oauth2.Token, error) {
	n := c.n.Add(1)
	return &oauth2.Token{AccessToken: "oauth2-" + string(rune('0'+n)), Expiry: time.Now().Add(time.Hour)}, nil
}

func TestOAuth2TokenSourceIsCachedAndRefreshedOnRefusal(t *testing.T) {
	r := &authRecorder{t: t, answers: []string{"ok", "ok", "unauthenticated", "ok"}, changed: make(chan struct{}, 1)}
	ts := &countingOAuth2{}
	client, err := New(recordingServer(t, r), WithoutRetry(), WithOAuth2TokenSource(ts))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := client.VClusterService.GetVCluster(t.Context(), connect.NewRequest(&apiv1.GetVClusterRequest{Name: "a"})); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"oauth2-1", "oauth2-1", "oauth2-1", "oauth2-2"}; !slices.Equal(r.sentTokens(), want) || ts.n.Load() != 2 {
		t.Fatalf("sent %v after %d fetches, want %v after 2", r.sentTokens(), ts.n.Load(), want)
	}
}

func TestClientCredentialsConfigErrors(t *testing.T) {
	_, err := NewClientCredentialsToken(ClientCredentials{Issuer: "ftp://x"})
	if err == nil || !strings.Contains(err.Error(), "ClientID is required") || !strings.Contains(err.Error(), "Issuer must be an http(s) URL") {
		t.Fatalf("got %v", err)
	}
	if _, err := NewClientCredentialsToken(ClientCredentials{ClientID: "a"}); err == nil || !strings.Contains(err.Error(), "Issuer or TokenURL") {
		t.Fatalf("got %v", err)
	}
}

func TestWatchRetriesWhenNoTokenCanBeFetched(t *testing.T) {
	// The issuer is down when the watch opens: the stream is not sent without credentials,
	// and the watch reconnects (with backoff) until a token can be fetched.
	r := &authRecorder{t: t, streams: []string{"open"}, changed: make(chan struct{}, 1)}
	var fetches atomic.Int32
	cache := NewTokenCache(func(context.Context) (string, time.Time, error) {
		if fetches.Add(1) == 1 {
			return "", time.Time{}, errors.New("issuer down")
		}
		return "good", time.Time{}, nil
	})
	client, err := New(recordingServer(t, r), WithTokenCache(cache), withRandom(func() float64 { return 0 }))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var reconnectErr atomic.Value
	w := client.Watch(&apiv1.WatchVClusterRequest{}, WatchOptions{OnStatus: func(s ConnectionStatus, err error) {
		if s == StatusReconnecting && err != nil {
			reconnectErr.CompareAndSwap(nil, err)
		}
	}})
	go func() {
		for range w.Events(ctx) {
		}
	}()
	until(t, r.changed, func() bool { return len(r.sentTokens()) == 1 })
	if got := r.sentTokens(); !slices.Equal(got, []string{"good"}) || fetches.Load() != 2 {
		t.Fatalf("sent %v after %d fetches", got, fetches.Load())
	}
	if err, _ := reconnectErr.Load().(error); connect.CodeOf(err) != connect.CodeUnavailable || !strings.Contains(err.Error(), "issuer down") {
		t.Fatalf("reconnected after %v, want unavailable naming the fetch failure", err)
	}
}
