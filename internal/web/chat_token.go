package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// ChatClaims is what a chat widget token binds: one customer and their conversation, until
// it expires.
type ChatClaims struct {
	CustomerID     int64  `json:"cu"`
	ConversationID int64  `json:"cv"`
	ExternalID     string `json:"x"` // the customer's id on the web channel
	Expires        int64  `json:"e"` // unix seconds
}

// ChatTokens signs and verifies chat widget tokens: "v1.<claims>.<hmac>", both parts
// base64url. No state is kept: any serve process sharing the secret verifies them.
type ChatTokens struct {
	Secret []byte
}

// Sign returns the token of c.
func (k ChatTokens) Sign(c ChatClaims) string {
	raw, _ := json.Marshal(c) // plain ints and a string: cannot fail
	body := "v1." + base64.RawURLEncoding.EncodeToString(raw)
	return body + "." + base64.RawURLEncoding.EncodeToString(k.mac(body))
}

func (k ChatTokens) mac(body string) []byte {
	m := hmac.New(sha256.New, k.Secret)
	m.Write([]byte(body))
	return m.Sum(nil)
}

// Verify returns the claims of a valid, unexpired token; anything else is ErrUnauthorized.
func (k ChatTokens) Verify(token string, now time.Time) (ChatClaims, error) {
	var c ChatClaims
	bad := baton.Errorf(baton.ErrUnauthorized, "invalid_token", "the chat token is invalid or expired; start a new session")
	i := strings.LastIndexByte(token, '.')
	if i < 0 || !strings.HasPrefix(token, "v1.") || len(k.Secret) == 0 {
		return c, bad
	}
	sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
	if err != nil || !hmac.Equal(sig, k.mac(token[:i])) {
		return c, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(token[len("v1."):i])
	if err != nil || json.Unmarshal(raw, &c) != nil || c.ConversationID <= 0 || c.CustomerID <= 0 {
		return c, bad
	}
	if now.Unix() >= c.Expires {
		return c, bad
	}
	return c, nil
}

// ChatSecret is the token secret: the configured one, else one derived from the webhook
// secret (so a deployment with one secret set needs no second).
func ChatSecret(configured, webhookSecret string) []byte {
	if configured != "" {
		return []byte(configured)
	}
	if webhookSecret == "" {
		return nil
	}
	m := hmac.New(sha256.New, []byte(webhookSecret))
	m.Write([]byte("baton chat token v1"))
	return m.Sum(nil)
}

// IdentitySignature is what a host website sends to have a signed-in customer recognised:
// hex(HMAC-SHA256(BATON_CHAT_IDENTITY_SECRET, identity)).
func IdentitySignature(secret, identity string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(identity))
	return hex.EncodeToString(m.Sum(nil))
}
