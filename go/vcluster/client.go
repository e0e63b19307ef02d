package vcluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"
	"github.com/open-vcluster/open-vcluster/go/gen/vcluster/api/v1/apiv1connect"
	"golang.org/x/oauth2"
)

// Protocol is the wire protocol a Client speaks.
type Protocol int

const (
	// ProtocolConnect is the Connect protocol over HTTP/1.1 or HTTP/2 (the default).
	ProtocolConnect Protocol = iota
	// ProtocolGRPC is gRPC; it needs HTTP/2 (h2c for http:// URLs).
	ProtocolGRPC
	// ProtocolGRPCWeb is gRPC-Web, which works over HTTP/1.1 and through most proxies.
	ProtocolGRPCWeb
)

func (p Protocol) String() string {
	switch p {
	case ProtocolGRPC:
		return "grpc"
	case ProtocolGRPCWeb:
		return "grpc-web"
	}
	return "connect"
}

// DefaultTimeout is the total time a unary call may take, retries included, when its
// context has no deadline of its own.
const DefaultTimeout = 30 * time.Second

type config struct {
	protocol     Protocol
	httpClient   connect.HTTPClient
	token        func(context.Context) (string, error)
	invalidate   func(refused string)
	timeout      time.Duration
	retry        RetryPolicy
	retryEnabled bool
	interceptors []connect.Interceptor
	watch        WatchOptions
	random       func() float64
}

// Option configures a Client.
type Option func(*config)

// WithProtocol selects Connect (default), gRPC or gRPC-Web.
func WithProtocol(p Protocol) Option { return func(c *config) { c.protocol = p } }

// WithHTTPClient replaces the HTTP client. The default speaks HTTP/1.1 for Connect and
// gRPC-Web and HTTP/2 (h2c on http:// URLs) for gRPC.
func WithHTTPClient(h connect.HTTPClient) Option { return func(c *config) { c.httpClient = h } }

// WithToken sends "Authorization: Bearer <token>" on every call.
func WithToken(token string) Option {
	return WithTokenSource(func(context.Context) (string, error) { return token, nil })
}

// WithTokenSource asks for the bearer token on every attempt, so it may refresh. The client
// cannot tell it that the server refused a token; use WithTokenCache for that.
func WithTokenSource(source func(context.Context) (string, error)) Option {
	return func(c *config) { c.token, c.invalidate = source, nil }
}

// WithTokenCache authenticates with the cache's token, asked for on every attempt. When the
// server answers UNAUTHENTICATED, the client invalidates the refused token and tries once
// more with a fresh one (a unary call at once; a watch, informer or waiter when it
// reconnects), so long-running watches outlive token rotation.
func WithTokenCache(cache *TokenCache) Option {
	return func(c *config) { c.token, c.invalidate = cache.Token, cache.Invalidate }
}

// WithTokenFunc is WithTokenCache(NewTokenCache(fetch, opts...)).
func WithTokenFunc(fetch TokenFunc, opts ...TokenCacheOption) Option {
	return WithTokenCache(NewTokenCache(fetch, opts...))
}

// WithOAuth2TokenSource authenticates with tokens of an x/oauth2 TokenSource, cached by a
// TokenCache (see OAuth2TokenFunc).
func WithOAuth2TokenSource(ts oauth2.TokenSource, opts ...TokenCacheOption) Option {
	return WithTokenFunc(OAuth2TokenFunc(ts), opts...)
}

// WithTimeout sets the total time of a unary call whose context has no deadline, retries
// included (default DefaultTimeout); 0 disables it. Watches are never limited by it.
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithRetry replaces the retry policy; zero fields keep their defaults.
func WithRetry(p RetryPolicy) Option {
	return func(c *config) { c.retry, c.retryEnabled = p, true }
}

// WithoutRetry makes every call a single attempt.
func WithoutRetry() Option { return func(c *config) { c.retryEnabled = false } }

// WithInterceptors adds interceptors that run on every attempt, inside the retry loop.
func WithInterceptors(interceptors ...connect.Interceptor) Option {
	return func(c *config) { c.interceptors = append(c.interceptors, interceptors...) }
}

// WithWatchDefaults sets the reconnect and liveness settings of every watch the client opens,
// waiters and informers included.
func WithWatchDefaults(o WatchOptions) Option { return func(c *config) { c.watch = o } }

// withRandom injects the jitter source (tests).
func withRandom(r func() float64) Option { return func(c *config) { c.random = r } }

// Client is an open-vcluster API client: the generated Connect clients, wrapped with the
// retry policy and bearer authentication, plus pagination, watch, informer and waiter helpers.
// It is safe for concurrent use.
type Client struct {
	// VClusterService is the generated client of every VClusterService RPC.
	VClusterService apiv1connect.VClusterServiceClient
	// SnapshotService is the generated client of every SnapshotService RPC.
	SnapshotService apiv1connect.SnapshotServiceClient

	watchDefaults WatchOptions
	random        func() float64
	// invalidateToken tells the token cache that the server refused a token; nil without one.
	invalidateToken func(refused string)
}

// New returns a Client for the server at baseURL (e.g. "http://127.0.0.1:8080").
func New(baseURL string, opts ...Option) (*Client, error) {
	if !strings.HasPrefix(baseURL, "http://") && !strings.HasPrefix(baseURL, "https://") {
		return nil, errors.New("vcluster: base URL must start with http:// or https://")
	}
	cfg := config{timeout: DefaultTimeout, retry: DefaultRetryPolicy(), retryEnabled: true}
	for _, opt := range opts {
		opt(&cfg)
	}
	if cfg.retry.random == nil {
		cfg.retry.random = cfg.random
	}
	if cfg.httpClient == nil {
		cfg.httpClient = defaultHTTPClient(cfg.protocol)
	}
	interceptors := []connect.Interceptor{newRetryInterceptor(cfg.retry, cfg.retryEnabled, cfg.timeout)}
	if cfg.token != nil {
		interceptors = append(interceptors, bearerAuth{token: cfg.token, invalidate: cfg.invalidate})
	}
	interceptors = append(interceptors, cfg.interceptors...)
	clientOpts := []connect.ClientOption{connect.WithInterceptors(interceptors...)}
	switch cfg.protocol {
	case ProtocolGRPC:
		clientOpts = append(clientOpts, connect.WithGRPC())
	case ProtocolGRPCWeb:
		clientOpts = append(clientOpts, connect.WithGRPCWeb())
	}
	base := strings.TrimSuffix(baseURL, "/")
	return &Client{
		VClusterService: apiv1connect.NewVClusterServiceClient(cfg.httpClient, base, clientOpts...),
		SnapshotService: apiv1connect.NewSnapshotServiceClient(cfg.httpClient, base, clientOpts...),
		watchDefaults:   cfg.watch,
		random:          randomOrDefault(cfg.random),
		invalidateToken: cfg.invalidate,
	}, nil
}

func defaultHTTPClient(p Protocol) *http.Client {
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
	}
	var protocols http.Protocols
	if p == ProtocolGRPC {
		// gRPC needs HTTP/2: over TLS through ALPN, over plain TCP with prior knowledge (h2c).
		protocols.SetHTTP2(true)
		protocols.SetUnencryptedHTTP2(true)
	} else {
		protocols.SetHTTP1(true)
		protocols.SetHTTP2(true)
	}
	transport.Protocols = &protocols
	return &http.Client{Transport: transport}
}

type bearerAuth struct {
	token      func(context.Context) (string, error)
	invalidate func(refused string)
}

// WrapUnary sends the token; when the server refuses it and the source can fetch anew, the
// call is sent once more with a fresh token (the refusal proves nothing was done).
func (a bearerAuth) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		token, err := a.token(ctx)
		if err != nil {
			return nil, connect.NewError(connect.CodeUnauthenticated, err)
		}
		req.Header().Set("Authorization", "Bearer "+token)
		res, err := next(ctx, req)
		if a.invalidate == nil || connect.CodeOf(err) != connect.CodeUnauthenticated {
			return res, err
		}
		a.invalidate(token)
		fresh, ferr := a.token(ctx)
		if ferr != nil || fresh == token {
			return res, err
		}
		req.Header().Set("Authorization", "Bearer "+fresh)
		return next(ctx, req)
	}
}

// sentTokenKey carries a *sentToken through a stream's context: the watch reads back which
// token the stream was opened with, so a refusal invalidates exactly that one.
type sentTokenKey struct{}

type sentToken struct {
	mu    sync.Mutex
	token string
}

func (s *sentToken) set(token string) {
	s.mu.Lock()
	s.token = token
	s.mu.Unlock()
}

func (s *sentToken) get() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token
}

func (a bearerAuth) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		token, err := a.token(ctx)
		if err != nil {
			return &failedStream{StreamingClientConn: conn, err: connect.NewError(connect.CodeUnavailable, fmt.Errorf("vcluster: no token: %w", err))}
		}
		conn.RequestHeader().Set("Authorization", "Bearer "+token)
		if sent, ok := ctx.Value(sentTokenKey{}).(*sentToken); ok {
			sent.set(token)
		}
		return conn
	}
}

func (a bearerAuth) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// failedStream is a stream that could not be opened because there was no token: fetching
// one may succeed later, so the watch reconnects with backoff rather than giving up.
type failedStream struct {
	connect.StreamingClientConn
	err error
}

func (f *failedStream) Send(any) error    { return f.err }
func (f *failedStream) Receive(any) error { return f.err }
func (f *failedStream) CloseRequest() error {
	_ = f.StreamingClientConn.CloseRequest()
	return f.err
}
