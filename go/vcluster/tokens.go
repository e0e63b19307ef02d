package vcluster

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	apiv1 "github.com/open-vcluster/open-vcluster/go/gen/vcluster/api/v1"
	"golang.org/x/oauth2"
)

// TokenFunc fetches a bearer token and the time it expires. A zero expiry means unknown: the
// token's JWT "exp" claim is used when it has one, else the token is kept until the server
// refuses it.
type TokenFunc func(ctx context.Context) (token string, expiry time.Time, err error)

// DefaultTokenRefreshBefore is how long before a cached token expires a TokenCache fetches a
// new one (the contract's tokens.refreshBeforeMs).
const DefaultTokenRefreshBefore = time.Duration(apiv1.TokenRefreshBeforeMs) * time.Millisecond

// TokenCache hands out a token from a TokenFunc, fetching it only when there is none, when
// the cached one is within the refresh margin of its expiry, or after Invalidate. Concurrent
// callers share one fetch; failed fetches are not cached. It is safe for concurrent use, and
// one cache may serve several clients.
type TokenCache struct {
	fetch         TokenFunc
	refreshBefore time.Duration
	now           func() time.Time
	fetchTimeout  time.Duration
	// stale, when set, reports that the cached token's origin changed (a rewritten file).
	stale func() bool

	mu        sync.Mutex
	token     string
	refreshAt time.Time // zero: keep until invalidated
	inFlight  *tokenFetch
}

type tokenFetch struct {
	done  chan struct{}
	token string
	err   error
}

// TokenCacheOption configures a TokenCache.
type TokenCacheOption func(*TokenCache)

// WithRefreshBefore sets how long before expiry a new token is fetched (default
// DefaultTokenRefreshBefore).
func WithRefreshBefore(d time.Duration) TokenCacheOption {
	return func(c *TokenCache) { c.refreshBefore = d }
}

// WithTokenClock replaces the clock that expiries are compared with (tests).
func WithTokenClock(now func() time.Time) TokenCacheOption {
	return func(c *TokenCache) { c.now = now }
}

// NewTokenCache returns a cache in front of fetch.
func NewTokenCache(fetch TokenFunc, opts ...TokenCacheOption) *TokenCache {
	c := &TokenCache{fetch: fetch, refreshBefore: DefaultTokenRefreshBefore, now: time.Now, fetchTimeout: DefaultTimeout}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Token returns the cached token, or fetches one. A fetch runs to its end (bounded by
// DefaultTimeout) even when the caller that started it gives up, so the callers waiting for
// it are not failed by another's cancellation.
func (c *TokenCache) Token(ctx context.Context) (string, error) {
	c.mu.Lock()
	if c.token != "" && (c.refreshAt.IsZero() || c.now().Before(c.refreshAt)) && (c.stale == nil || !c.stale()) {
		token := c.token
		c.mu.Unlock()
		return token, nil
	}
	f := c.inFlight
	if f == nil {
		f = &tokenFetch{done: make(chan struct{})}
		c.inFlight = f
		go c.run(context.WithoutCancel(ctx), f)
	}
	c.mu.Unlock()
	select {
	case <-f.done:
		return f.token, f.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (c *TokenCache) run(ctx context.Context, f *tokenFetch) {
	ctx, cancel := context.WithTimeout(ctx, c.fetchTimeout)
	defer cancel()
	token, expiry, err := c.fetch(ctx)
	if err == nil && token == "" {
		err = errors.New("vcluster: the token source returned an empty token")
	}
	if err == nil && expiry.IsZero() {
		expiry = JWTExpiry(token)
	}
	c.mu.Lock()
	if err == nil {
		c.token, c.refreshAt = token, time.Time{}
		if !expiry.IsZero() {
			c.refreshAt = expiry.Add(-c.refreshBefore)
		}
	}
	c.inFlight = nil
	c.mu.Unlock()
	f.token, f.err = token, err
	close(f.done)
}

// Invalidate drops the cached token when it is refused (or whatever is cached when refused
// is ""), so the next Token fetches anew. A newer token than the refused one is kept: it was
// fetched after the refusal's request was sent. A fetch in flight is kept too: what it
// returns is newer than anything refused.
func (c *TokenCache) Invalidate(refused string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if refused == "" || c.token == refused {
		c.token, c.refreshAt = "", time.Time{}
	}
}

// JWTExpiry is the "exp" claim of a JWT, or the zero time for a token that is not one.
// The signature is not checked: the server does that; the client only schedules a refresh.
func JWTExpiry(token string) time.Time {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}
	}
	var claims struct {
		Exp *float64 `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Exp == nil {
		return time.Time{}
	}
	sec := int64(*claims.Exp)
	return time.Unix(sec, int64((*claims.Exp-float64(sec))*1e9))
}

// OAuth2TokenFunc adapts an oauth2.TokenSource (x/oauth2, and anything built on it: Google's
// credentials, clientcredentials, a refresh-token source). Wrap sources that cache on their
// own in oauth2.ReuseTokenSource's place, not in front of it: the TokenCache must be able to
// fetch anew after a refusal.
func OAuth2TokenFunc(ts oauth2.TokenSource) TokenFunc {
	return func(context.Context) (string, time.Time, error) {
		t, err := ts.Token()
		if err != nil {
			return "", time.Time{}, err
		}
		if t.AccessToken == "" {
			return "", time.Time{}, fmt.Errorf("vcluster: the OAuth 2.0 token source returned no access token")
		}
		return t.AccessToken, t.Expiry, nil
	}
}
