package vcluster

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"connectrpc.com/connect"
	"github.com/open-vcluster/open-vcluster/go/gen/vcluster/api/v1/apiv1connect"
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

// WithTokenSource asks for the bearer token on every attempt, so it may refresh.
func WithTokenSource(source func(context.Context) (string, error)) Option {
	return func(c *config) { c.token = source }
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
		interceptors = append(interceptors, bearerAuth{cfg.token})
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
	token func(context.Context) (string, error)
}

func (a bearerAuth) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		token, err := a.token(ctx)
		if err != nil {
			return nil, connect.NewError(connect.CodeUnauthenticated, err)
		}
		req.Header().Set("Authorization", "Bearer "+token)
		return next(ctx, req)
	}
}

func (a bearerAuth) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		if token, err := a.token(ctx); err == nil {
			conn.RequestHeader().Set("Authorization", "Bearer "+token)
		}
		return conn
	}
}

func (a bearerAuth) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}
