package switchboard

import "time"

// IdempotencyKey names one request a client may retry without acting twice:
// the credential that sent it, the Idempotency-Key it chose, and a hash of
// the request (method, path and body) so that a reused key is told apart
// from a retry.
type IdempotencyKey struct {
	TenantID, APIKeyID int64
	Key                string
	RequestHash        string
}

// IdempotentResponse is the first answer to a request made with an
// idempotency key, replayed to its retries.
type IdempotentResponse struct {
	// RequestHash is the hash of the request the key was first used with.
	RequestHash string
	// Status is 0 while the first request is still being served.
	Status      int
	ContentType string
	Body        []byte
	CreatedAt   time.Time
}
