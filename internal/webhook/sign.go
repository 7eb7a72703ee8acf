package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"switchboard"
)

// Sign returns the Standard Webhooks signature of a message: "v1," and the
// base64 HMAC-SHA256, keyed by the secret's decoded bytes, of
// "msgID.timestamp.body". Several secrets (during rotation) give several
// signatures separated by spaces; a receiver accepts a message if any matches.
func Sign(secrets []string, msgID string, timestamp int64, body []byte) (string, error) {
	keys := make([][]byte, 0, len(secrets))
	for _, s := range secrets {
		key, err := decodeSecret(s)
		if err != nil {
			return "", err
		}
		keys = append(keys, key)
	}
	return sign(keys, msgID, timestamp, body), nil
}

func decodeSecret(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
	if err != nil {
		return nil, fmt.Errorf("webhook secret is not base64: %w", err)
	}
	return key, nil
}

func sign(keys [][]byte, msgID string, timestamp int64, body []byte) string {
	var b strings.Builder
	var ts [20]byte
	for i, key := range keys {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(msgID))
		mac.Write([]byte{'.'})
		mac.Write(strconv.AppendInt(ts[:0], timestamp, 10))
		mac.Write([]byte{'.'})
		mac.Write(body)
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("v1,")
		b.WriteString(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	return b.String()
}

// signer signs the deliveries of one webhook with its secrets decoded once
// (for every delivery of a claim), the previous secret only while it is
// still valid at the attempt.
type signer struct {
	current, previous []byte
	expires           time.Time
	err               error
	// raw are the secrets as the subscriber holds them, for a dialect's
	// own signature (SigningRenderer).
	raw []string
}

func newSigner(w switchboard.Webhook) *signer {
	s := &signer{raw: []string{w.Secret}}
	s.current, s.err = decodeSecret(w.Secret)
	if s.err == nil && w.PreviousSecret != "" && w.PreviousSecretExpiresAt != nil {
		s.expires = *w.PreviousSecretExpiresAt
		s.previous, s.err = decodeSecret(w.PreviousSecret)
		s.raw = append(s.raw, w.PreviousSecret)
	}
	return s
}

// secrets are the secrets that sign an attempt at now, as the subscriber
// holds them: the current one, and the previous one while still valid.
func (s *signer) secrets(now time.Time) []string {
	if len(s.raw) > 1 && !now.Before(s.expires) {
		return s.raw[:1]
	}
	return s.raw
}

func (s *signer) sign(msgID string, now time.Time, body []byte) (string, error) {
	if s.err != nil {
		return "", s.err
	}
	keys := [][]byte{s.current}
	if s.previous != nil && now.Before(s.expires) {
		keys = append(keys, s.previous)
	}
	return sign(keys, msgID, now.Unix(), body), nil
}
