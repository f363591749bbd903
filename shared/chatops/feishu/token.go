package feishu

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/lbfn/lbfn/shared/chatops"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
)

// tokenMargin is how long before its stated expiry a tenant access token stops being used,
// as the official SDK does (3 minutes): a reply never starts with a token about to lapse.
const tokenMargin = 3 * time.Minute

// tokenCache holds the app's tenant access token until shortly before it expires. One fetch
// runs at a time; concurrent posts wait for it (or for their own context) and share the
// result, so a burst of replies asks Feishu once.
type tokenCache struct {
	p       *platform
	lock    chan struct{} // a mutex a waiter can give up on
	token   redact.Secret
	expires time.Time
}

func newTokenCache(p *platform) *tokenCache {
	return &tokenCache{p: p, lock: make(chan struct{}, 1)}
}

func (c *tokenCache) get(ctx context.Context) (redact.Secret, error) {
	select {
	case c.lock <- struct{}{}:
	case <-ctx.Done():
		return redact.Secret{}, &op.Error{Kind: op.KindTimeout, Retryable: true, Err: ctx.Err(),
			Message: "feishu tenant_access_token: no time left to wait for the token"}
	}
	defer func() { <-c.lock }()
	if c.token.IsSet() && time.Now().Before(c.expires) {
		return c.token, nil
	}
	token, lifetime, err := c.fetch(ctx)
	if err != nil {
		return redact.Secret{}, err
	}
	c.token, c.expires = redact.Secret{}, time.Time{}
	if lifetime > tokenMargin {
		c.token, c.expires = token, time.Now().Add(lifetime-tokenMargin)
	}
	return token, nil
}

// drop forgets token if it is still the cached one (Feishu refused it).
func (c *tokenCache) drop(token redact.Secret) {
	c.lock <- struct{}{}
	if c.token.Reveal() == token.Reveal() {
		c.token, c.expires = redact.Secret{}, time.Time{}
	}
	<-c.lock
}

func (c *tokenCache) fetch(ctx context.Context) (redact.Secret, time.Duration, error) {
	const what = "feishu tenant_access_token"
	body, _ := json.Marshal(map[string]string{"app_id": c.p.cfg.AppID, "app_secret": c.p.cfg.AppSecret.Reveal()})
	status, answer, err := chatops.PostJSON(ctx, c.p.cfg.HTTPClient, what,
		c.p.base+"/open-apis/auth/v3/tenant_access_token/internal", []string{c.p.host},
		http.Header{"Content-Type": {"application/json; charset=utf-8"}}, body)
	if err != nil {
		return redact.Secret{}, 0, err
	}
	var res struct {
		apiAnswer
		Token  redact.Secret `json:"tenant_access_token"`
		Expire int64         `json:"expire"`
	}
	if json.Unmarshal(answer, &res) == nil && res.Code != nil && *res.Code != 0 {
		// The app id or secret was refused.
		return redact.Secret{}, 0, chatops.CodeError(op.KindAuth, what, *res.Code, res.Msg, c.p.cfg.AppSecret, res.Token)
	}
	if status/100 != 2 {
		return redact.Secret{}, 0, chatops.StatusError(what, status)
	}
	if res.Code == nil || !res.Token.IsSet() || res.Expire <= 0 {
		return redact.Secret{}, 0, op.Errorf(op.KindProvider, "%s: answer without a token", what)
	}
	return res.Token, time.Duration(min(res.Expire, 24*3600)) * time.Second, nil
}
