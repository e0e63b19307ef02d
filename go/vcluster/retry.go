package vcluster

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"

	"connectrpc.com/connect"
	apiv1 "github.com/open-vcluster/open-vcluster/go/gen/vcluster/api/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// RetryPolicy decides which failed calls are repeated and how long to wait between attempts.
// Zero fields take the defaults of DefaultRetryPolicy.
type RetryPolicy struct {
	// MaxAttempts per call, the first included. Default 3; 1 disables retries.
	MaxAttempts int
	// BaseDelay is the upper bound of the first backoff delay. Default 100 ms.
	BaseDelay time.Duration
	// ThrottledBaseDelay replaces BaseDelay after ResourceExhausted (the server is overloaded). Default 1 s.
	ThrottledBaseDelay time.Duration
	// MaxDelay caps every backoff delay (a server retry-delay hint may exceed it). Default 20 s.
	MaxDelay time.Duration
	// AttemptTimeout limits each attempt, within what is left of the call's deadline. Default none.
	AttemptTimeout time.Duration
	// Budget is the client-wide token bucket that stops retry storms during outages.
	Budget RetryBudget
	// IsNotProcessed decides whether a failed mutation that is neither read-only nor protected
	// by a request id may be repeated: only when the error proves the server never processed it.
	// Default DefaultIsNotProcessed.
	IsNotProcessed func(error) bool
	// OnRetry is called before each backoff sleep.
	OnRetry func(RetryEvent)

	random func() float64
	sleep  func(context.Context, time.Duration) error
}

// RetryBudget sizes the client-wide retry token bucket (the AWS SDK's "retry quota"): retries
// spend tokens and successes earn them back. Zero fields take the defaults.
type RetryBudget struct {
	Capacity         int // default 500
	RetryCost        int // default 5
	TimeoutRetryCost int // default 10: timeouts hint at overload
	SuccessRefill    int // default 1: what a call that needed no retry gives back
}

// RetryEvent describes one failed attempt that is about to be retried.
type RetryEvent struct {
	// Procedure is the full method name, e.g. "/vcluster.api.v1.VClusterService/GetVCluster".
	Procedure string
	// Attempt is the 1-based attempt that failed.
	Attempt int
	Err     error
	// Delay is how long the client waits before the next attempt.
	Delay time.Duration
}

// DefaultRetryPolicy returns the policy clients use unless told otherwise.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{
		MaxAttempts:        3,
		BaseDelay:          100 * time.Millisecond,
		ThrottledBaseDelay: time.Second,
		MaxDelay:           20 * time.Second,
		Budget:             RetryBudget{Capacity: 500, RetryCost: 5, TimeoutRetryCost: 10, SuccessRefill: 1},
		IsNotProcessed:     DefaultIsNotProcessed,
	}
}

func (p RetryPolicy) resolved() RetryPolicy {
	d := DefaultRetryPolicy()
	if p.MaxAttempts == 0 {
		p.MaxAttempts = d.MaxAttempts
	}
	if p.BaseDelay == 0 {
		p.BaseDelay = d.BaseDelay
	}
	if p.ThrottledBaseDelay == 0 {
		p.ThrottledBaseDelay = d.ThrottledBaseDelay
	}
	if p.MaxDelay == 0 {
		p.MaxDelay = d.MaxDelay
	}
	p.Budget = p.Budget.resolved()
	if p.IsNotProcessed == nil {
		p.IsNotProcessed = d.IsNotProcessed
	}
	p.random = randomOrDefault(p.random)
	if p.sleep == nil {
		p.sleep = sleepContext
	}
	return p
}

func (b RetryBudget) resolved() RetryBudget {
	if b.Capacity == 0 {
		b.Capacity = 500
	}
	if b.RetryCost == 0 {
		b.RetryCost = 5
	}
	if b.TimeoutRetryCost == 0 {
		b.TimeoutRetryCost = 10
	}
	if b.SuccessRefill == 0 {
		b.SuccessRefill = 1
	}
	return b
}

type tokenBucket struct {
	mu      sync.Mutex
	options RetryBudget
	tokens  int
}

func newTokenBucket(options RetryBudget) *tokenBucket {
	return &tokenBucket{options: options, tokens: options.Capacity}
}

// acquire takes the cost of one retry; it returns the amount taken, or 0 when the budget is spent.
func (b *tokenBucket) acquire(afterTimeout bool) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	cost := b.options.RetryCost
	if afterTimeout {
		cost = b.options.TimeoutRetryCost
	}
	if b.tokens < cost {
		return 0
	}
	b.tokens -= cost
	return cost
}

// succeeded refunds what the call's last retry took, or a small refill when it needed none.
func (b *tokenBucket) succeeded(lastRetryCost int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	refill := lastRetryCost
	if refill == 0 {
		refill = b.options.SuccessRefill
	}
	b.tokens = min(b.options.Capacity, b.tokens+refill)
}

func (b *tokenBucket) available() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tokens
}

// DefaultIsNotProcessed reports the failures that prove the server did not process a request:
// the connection was refused or the host not found (nothing was sent), the HTTP/2 stream was
// refused (the server read nothing), or the server answered RESOURCE_EXHAUSTED, which it does
// for rate limits and admission before any work.
func DefaultIsNotProcessed(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	if strings.Contains(err.Error(), "REFUSED_STREAM") {
		return true
	}
	return connect.CodeOf(err) == connect.CodeResourceExhausted && ReasonOf(err) == apiv1.ReasonResourceExhausted
}

func isTransient(err error) bool {
	switch connect.CodeOf(err) {
	case connect.CodeUnavailable, connect.CodeResourceExhausted, connect.CodeAborted, connect.CodeDeadlineExceeded:
		return true
	case connect.CodeCanceled:
		return isConnectionLost(err)
	}
	return false
}

// isConnectionLost: the connection broke under the call (a server closing an idle keep-alive
// connection as the request goes out is the common case). connect-go reports that as CANCELED,
// the code of a caller that went away; the retry loop only asks while the caller's context is
// still live, so here it is a lost connection and as transient as UNAVAILABLE.
func isConnectionLost(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// isSafeToRepeat: read-only methods, and methods whose request carries an idempotency key
// (the client fills it once per call, so the server answers a repeat with the first response).
func isSafeToRepeat(spec connect.Spec) bool {
	if spec.IdempotencyLevel == connect.IdempotencyNoSideEffects {
		return true
	}
	method, ok := spec.Schema.(protoreflect.MethodDescriptor)
	return ok && requestIDField(method.Input()) != nil
}

func requestIDField(msg protoreflect.MessageDescriptor) protoreflect.FieldDescriptor {
	fd := msg.Fields().ByName("request_id")
	if fd == nil || fd.Kind() != protoreflect.StringKind || fd.Cardinality() == protoreflect.Repeated {
		return nil
	}
	return fd
}

// fillRequestID sets an empty request_id to a fresh UUIDv4 for the duration of one logical
// call, so every attempt carries the same key; the caller's own id is never replaced. The
// returned function clears it again, so a request message reused for another call gets a new id.
func fillRequestID(message any) func() {
	m, ok := message.(proto.Message)
	if !ok {
		return func() {}
	}
	r := m.ProtoReflect()
	fd := requestIDField(r.Descriptor())
	if fd == nil || r.Get(fd).String() != "" {
		return func() {}
	}
	r.Set(fd, protoreflect.ValueOfString(newUUID()))
	return func() { r.Clear(fd) }
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// retryInterceptor applies the RetryPolicy to unary calls, and the client's default total
// timeout to unary calls whose context has no deadline. Streams pass through: the watch
// helper reconnects on its own, from the last version it delivered.
type retryInterceptor struct {
	policy         RetryPolicy
	budget         *tokenBucket
	defaultTimeout time.Duration
	enabled        bool
}

func newRetryInterceptor(policy RetryPolicy, enabled bool, defaultTimeout time.Duration) *retryInterceptor {
	p := policy.resolved()
	return &retryInterceptor{policy: p, budget: newTokenBucket(p.Budget), defaultTimeout: defaultTimeout, enabled: enabled}
}

func (r *retryInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (r *retryInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

func (r *retryInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if _, has := ctx.Deadline(); !has && r.defaultTimeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, r.defaultTimeout)
			defer cancel()
		}
		if !r.enabled || r.policy.MaxAttempts <= 1 {
			return next(ctx, req)
		}
		return r.call(ctx, req, next)
	}
}

func (r *retryInterceptor) call(ctx context.Context, req connect.AnyRequest, next connect.UnaryFunc) (connect.AnyResponse, error) {
	p := r.policy
	safe := isSafeToRepeat(req.Spec())
	if safe {
		defer fillRequestID(req.Any())()
	}
	deadline, hasDeadline := ctx.Deadline()
	var previous []error
	lastRetryCost := 0
	for attempt := 1; ; attempt++ {
		resp, err := r.attempt(ctx, req, next)
		if err == nil {
			r.budget.succeeded(lastRetryCost)
			return resp, nil
		}
		fail := func(note string) error {
			if len(previous) == 0 {
				return err
			}
			return &RetriedError{Attempts: len(previous) + 1, Previous: previous, Last: err, note: note}
		}
		if ctx.Err() != nil {
			return nil, fail("")
		}
		retryable := p.IsNotProcessed(err)
		if safe {
			retryable = isTransient(err)
		}
		if !retryable || attempt >= p.MaxAttempts {
			return nil, fail("")
		}
		delay := r.delay(err, attempt)
		// Waiting past the deadline only to fail there helps no one: give up now.
		if hasDeadline && delay >= time.Until(deadline) {
			return nil, fail("no time left for another attempt")
		}
		cost := r.budget.acquire(connect.CodeOf(err) == connect.CodeDeadlineExceeded)
		if cost == 0 {
			return nil, fail("retry budget exhausted")
		}
		lastRetryCost = cost
		previous = append(previous, err)
		if p.OnRetry != nil {
			p.OnRetry(RetryEvent{Procedure: req.Spec().Procedure, Attempt: attempt, Err: err, Delay: delay})
		}
		if serr := p.sleep(ctx, delay); serr != nil {
			// The caller gave up between attempts: report that, not the last failure.
			return nil, &RetriedError{
				Attempts: attempt,
				Previous: previous,
				Last:     connect.NewError(contextCode(serr), serr),
				note:     "stopped while waiting to retry",
			}
		}
	}
}

// contextCode is the Connect code of a context error.
func contextCode(err error) connect.Code {
	if errors.Is(err, context.DeadlineExceeded) {
		return connect.CodeDeadlineExceeded
	}
	return connect.CodeCanceled
}

func (r *retryInterceptor) attempt(ctx context.Context, req connect.AnyRequest, next connect.UnaryFunc) (connect.AnyResponse, error) {
	if r.policy.AttemptTimeout <= 0 {
		return next(ctx, req)
	}
	actx, cancel := context.WithTimeout(ctx, r.policy.AttemptTimeout)
	defer cancel()
	resp, err := next(actx, req)
	if err != nil && ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
		return nil, connect.NewError(connect.CodeDeadlineExceeded, errors.New("attempt timed out"))
	}
	return resp, err
}

func (r *retryInterceptor) delay(err error, attempt int) time.Duration {
	base := r.policy.BaseDelay
	if connect.CodeOf(err) == connect.CodeResourceExhausted {
		base = r.policy.ThrottledBaseDelay
	}
	d := fullJitter(attempt-1, base, r.policy.MaxDelay, 2, r.policy.random())
	if detail := DetailOf(err); detail != nil && detail.RetryDelay > d {
		d = detail.RetryDelay
	}
	return d
}
