package vcluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// ClientCredentials configures the OAuth 2.0 client-credentials grant, the way automation
// signs in with an identity provider (Dex, Keycloak, Okta, Entra, Auth0).
type ClientCredentials struct {
	// Issuer is the OpenID issuer whose discovery document names the token endpoint; or set
	// TokenURL.
	Issuer   string
	TokenURL string

	ClientID     string
	ClientSecret string
	Scopes       []string
	// Resource is an RFC 8707 resource indicator, for issuers that mint audience-bound tokens.
	Resource string
	// Audience is the parameter some issuers (Auth0, Entra) take instead.
	Audience string
	// HTTPClient reaches the issuer (default http.DefaultClient).
	HTTPClient *http.Client
}

// NewClientCredentialsToken returns a TokenCache of access tokens from the client-credentials
// grant (x/oauth2/clientcredentials). The token endpoint is discovered once, on first use,
// when only Issuer is set; a failed discovery is tried again on the next fetch.
func NewClientCredentialsToken(cc ClientCredentials, opts ...TokenCacheOption) (*TokenCache, error) {
	var problems []string
	if cc.ClientID == "" {
		problems = append(problems, "ClientID is required")
	}
	if cc.Issuer == "" && cc.TokenURL == "" {
		problems = append(problems, "Issuer or TokenURL is required")
	}
	for name, raw := range map[string]string{"Issuer": cc.Issuer, "TokenURL": cc.TokenURL} {
		if u, err := url.Parse(raw); raw != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "") {
			problems = append(problems, name+" must be an http(s) URL")
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("vcluster: client credentials: %s", strings.Join(problems, "; "))
	}
	httpClient := cc.HTTPClient
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	endpoint := &discoveredEndpoint{issuer: cc.Issuer, tokenURL: cc.TokenURL, http: httpClient}
	params := url.Values{}
	if cc.Resource != "" {
		params.Set("resource", cc.Resource)
	}
	if cc.Audience != "" {
		params.Set("audience", cc.Audience)
	}
	fetch := func(ctx context.Context) (string, time.Time, error) {
		tokenURL, err := endpoint.get(ctx)
		if err != nil {
			return "", time.Time{}, err
		}
		cfg := clientcredentials.Config{
			ClientID: cc.ClientID, ClientSecret: cc.ClientSecret, TokenURL: tokenURL, Scopes: cc.Scopes,
			EndpointParams: params, AuthStyle: oauth2.AuthStyleInHeader,
		}
		// Config.Token fetches every time; the TokenCache decides when (Config.TokenSource would
		// cache on its own, and could not be made to fetch anew after a refusal).
		t, err := cfg.Token(context.WithValue(ctx, oauth2.HTTPClient, httpClient))
		if err != nil {
			return "", time.Time{}, fmt.Errorf("vcluster: client credentials: %w", err)
		}
		return t.AccessToken, t.Expiry, nil
	}
	return NewTokenCache(fetch, opts...), nil
}

type discoveredEndpoint struct {
	issuer, tokenURL string
	http             *http.Client
	mu               sync.Mutex
}

func (d *discoveredEndpoint) get(ctx context.Context) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.tokenURL != "" {
		return d.tokenURL, nil
	}
	discovery := strings.TrimSuffix(d.issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, discovery, nil)
	if err != nil {
		return "", err
	}
	res, err := d.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("vcluster: OpenID discovery at %s: %w", discovery, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("vcluster: OpenID discovery at %s answered HTTP %d", discovery, res.StatusCode)
	}
	var doc struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil || doc.TokenEndpoint == "" {
		return "", fmt.Errorf("vcluster: OpenID discovery at %s names no token_endpoint", discovery)
	}
	d.tokenURL = doc.TokenEndpoint
	return d.tokenURL, nil
}

// ServiceAccountTokenPath is where Kubernetes mounts a pod's projected service-account token.
const ServiceAccountTokenPath = "/var/run/secrets/kubernetes.io/serviceaccount/token"

// NewServiceAccountToken returns a TokenCache of the projected service-account token in the
// file at path ("" for ServiceAccountTokenPath), for a server that accepts them through
// TokenReview. The kubelet rewrites the file before the token expires: the file is read
// again as soon as it changes (checked with one stat per request), when the token nears its
// "exp", or when the server refuses it.
func NewServiceAccountToken(path string, opts ...TokenCacheOption) *TokenCache {
	if path == "" {
		path = ServiceAccountTokenPath
	}
	var mu sync.Mutex
	var read os.FileInfo
	fetch := func(context.Context) (string, time.Time, error) {
		info, err := os.Stat(path)
		if err != nil {
			return "", time.Time{}, fmt.Errorf("vcluster: service-account token: %w", err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return "", time.Time{}, fmt.Errorf("vcluster: service-account token: %w", err)
		}
		token := strings.TrimSpace(string(data))
		if token == "" {
			return "", time.Time{}, errors.New("vcluster: service-account token: " + path + " is empty")
		}
		mu.Lock()
		read = info
		mu.Unlock()
		return token, time.Time{}, nil
	}
	c := NewTokenCache(fetch, opts...)
	c.stale = func() bool {
		info, err := os.Stat(path)
		mu.Lock()
		defer mu.Unlock()
		// The kubelet replaces the file through a symlink swap: a new inode, size or time.
		return err != nil || read == nil || !os.SameFile(info, read) || !info.ModTime().Equal(read.ModTime()) || info.Size() != read.Size()
	}
	return c
}
